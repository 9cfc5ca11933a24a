package transport

import (
	"net/http"
	"slices"

	"github.com/gorilla/websocket"
)

// Subprotocol is the WebSocket subprotocol of MSRP (RFC 7977 section 4.1).
const Subprotocol = "msrp"

type wsHandler struct {
	cfg    *config
	up     websocket.Upgrader
	handle func(*Conn)
}

// NewWebSocketHandler returns an http.Handler that upgrades requests to
// MSRP-over-WebSocket connections and calls handle with each one; the
// Conn is closed when handle returns. Serve it with an http.Server (with
// TLS for wss). Kind is KindWSS when the request came over TLS.
//
// A handshake that does not offer the "msrp" subprotocol is refused with
// HTTP 400 before any upgrade, and the refusal is logged with the peer.
// Origins are checked against Config.AllowedOrigins, and an admitted
// Origin is echoed in Access-Control-Allow-Origin (RFC 7977 section 7).
//
// handle runs in a goroutine of its own, started after the upgrade, and
// ServeHTTP returns at once: the HTTP server's per-request goroutine and
// its 8 KiB of buffers are then freed for the connection's whole life,
// which is most of what an idle connection would otherwise cost.
//
// An invalid cfg (see Config.Validate) gives a handler that logs the
// problem and answers every request with HTTP 500.
func NewWebSocketHandler(cfg Config, handle func(*Conn)) http.Handler {
	c, err := cfg.normalize()
	if err != nil {
		log := cfg.loggerFactory().NewLogger("transport")
		log.Errorf("WebSocket handler not usable: %v", err)
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "MSRP WebSocket service misconfigured", http.StatusInternalServerError)
		})
	}
	h := &wsHandler{cfg: c, handle: handle}
	// No buffer sizes: gorilla then reuses the HTTP server's buffers for
	// the handshake and allocates none of its own. Its Conn is dropped
	// right after the upgrade (see ServeHTTP).
	h.up = websocket.Upgrader{
		HandshakeTimeout: c.HandshakeTimeout,
		Subprotocols:     []string{Subprotocol},
		CheckOrigin:      c.origins.check,
	}
	return h
}

func (h *wsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if offered := websocket.Subprotocols(r); !slices.Contains(offered, Subprotocol) {
		h.cfg.log.Infof("refused WebSocket handshake from %s: subprotocol msrp not offered (offered %q)",
			r.RemoteAddr, offered)
		http.Error(w, "WebSocket subprotocol \"msrp\" required (RFC 7977)", http.StatusBadRequest)
		return
	}
	var hdr http.Header
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr = http.Header{"Access-Control-Allow-Origin": {origin}}
	}
	ws, err := h.up.Upgrade(w, r, hdr) // refuses bad Origins with 403
	if err != nil {
		h.cfg.log.Infof("refused WebSocket handshake from %s (Origin %q): %v", r.RemoteAddr, r.Header.Get("Origin"), err)
		return
	}
	kind := KindWS
	if r.TLS != nil {
		kind = KindWSS
	}
	// Only the socket is kept; gorilla's Conn becomes garbage, and its
	// buffers with it. Frames are read by wsread.go and written by
	// wsframe.go. Nothing can be waiting in gorilla's read buffer: Upgrade
	// refuses a client that sent data before the handshake completed.
	conn, err := newConn(h.cfg, kind, ws.UnderlyingConn(), false)
	if err != nil {
		h.cfg.log.Errorf("WebSocket connection from %s: %v", r.RemoteAddr, err)
		return
	}
	go func() {
		defer conn.Close(ReasonLocal, "handler returned")
		h.handle(conn)
	}()
}
