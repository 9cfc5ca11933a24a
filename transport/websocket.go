package transport

import (
	"net/http"
	"slices"

	"github.com/gorilla/websocket"
)

// Subprotocol is the WebSocket subprotocol of MSRP (RFC 7977 section 4.1).
const Subprotocol = "msrp"

type wsHandler struct {
	host   *Host
	handle func(*Conn)
}

// WebSocketHandler returns an http.Handler that upgrades requests to
// MSRP-over-WebSocket connections and calls handle with each one; the
// Conn is closed when handle returns. Serve it with an http.Server (with
// TLS for wss) whose handshake timeouts match Config.HandshakeTimeout.
// Kind is KindWSS when the request came over TLS.
//
// A handshake that does not offer the "msrp" subprotocol is refused with
// HTTP 400 before any upgrade, and the refusal is logged with the peer.
// Origins are checked against Config.AllowedOrigins, and an admitted
// Origin is echoed in Access-Control-Allow-Origin (RFC 7977 section 7).
// After Close every handshake is refused with HTTP 503.
//
// handle runs in a goroutine of its own, started after the upgrade, and
// ServeHTTP returns at once: the HTTP server's per-request goroutine and
// its 8 KiB of buffers are then freed for the connection's whole life,
// which is most of what an idle connection would otherwise cost.
func (h *Host) WebSocketHandler(handle func(*Conn)) http.Handler {
	return &wsHandler{host: h, handle: handle}
}

func (h *wsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.host.isClosed() {
		h.host.wsRefused[refusedStopped].Add(1)
		http.Error(w, "MSRP service stopped", http.StatusServiceUnavailable)
		return
	}
	if offered := websocket.Subprotocols(r); !slices.Contains(offered, Subprotocol) {
		h.host.log.Infof("refused WebSocket handshake from %s: subprotocol msrp not offered (offered %q)",
			r.RemoteAddr, offered)
		h.host.wsRefused[refusedSubprotocol].Add(1)
		http.Error(w, "WebSocket subprotocol \"msrp\" required (RFC 7977)", http.StatusBadRequest)
		return
	}
	var hdr http.Header
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr = http.Header{"Access-Control-Allow-Origin": {origin}}
	}
	ws, err := h.host.upgrader.Upgrade(w, r, hdr) // refuses bad Origins with 403
	if err != nil {
		why := refusedBadRequest
		if !h.host.upgrader.CheckOrigin(r) {
			why = refusedOrigin
		}
		h.host.wsRefused[why].Add(1)
		h.host.log.Infof("refused WebSocket handshake from %s (Origin %q): %v", r.RemoteAddr, r.Header.Get("Origin"), err)
		return
	}
	kind := KindWS
	if r.TLS != nil {
		kind = KindWSS
	}
	// Only the socket is kept; gorilla's Conn becomes garbage, and its
	// buffers with it. Frames are read and written by our codec
	// (internal/ws, wslink.go). Nothing can be waiting in gorilla's read
	// buffer: Upgrade refuses a client that sent data before the
	// handshake completed.
	conn, err := h.host.newConn(kind, ws.UnderlyingConn(), false)
	if err != nil {
		h.host.log.Infof("WebSocket connection from %s: %v", r.RemoteAddr, err)
		return
	}
	go func() {
		defer conn.Close(ReasonLocal, "handler returned")
		h.handle(conn)
	}()
}
