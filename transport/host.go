package transport

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
)

// Host is the transport of one relay or endpoint: New builds it once from
// a Config, and every connection it accepts or dials shares what it owns:
// the validated Config, one keepalive Scheduler, the loggers, the admitted
// WebSocket Origins, the WebSocket message buffers and the counters. Like
// net/http's Server, one Host serves any number of listeners (ServeStream,
// ServeTLS, WebSocketHandler) and dials any number of connections (Dial)
// for its whole life; Close stops it.
//
// A Host runs no goroutine of its own: the Scheduler's runs only while
// some connection is probed. A Host that is dropped without Close leaks
// nothing once its connections are closed.
type Host struct {
	cfg       Config               // defaults filled in, Keepalive's too
	probes    *keepalive.Scheduler // drives the Keepers of all its connections
	readLimit int64
	wsBufs    *wsBufPool // WebSocket message buffers
	log       logging.LeveledLogger
	kaLog     logging.LeveledLogger
	upgrader  websocket.Upgrader

	totals keepalive.Counters // summed over all connections
	closes closeCounters
	open   [numKinds]atomic.Int64
	// Refusals before there is a connection: WebSocket handshakes by
	// reason, TLS handshakes of ServeTLS.
	wsRefused   [numRefusals]atomic.Uint64
	tlsFailures atomic.Uint64

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     *Conn // open connections, a list through Conn.prev and next
}

// New checks cfg, fills in its defaults and returns a Host. A Config that
// makes no sense (negative sizes, a malformed AllowedOrigins entry, bad
// keepalive settings) is refused here, with an error wrapping
// ErrBadConfig or keepalive's, rather than on the first connection.
func New(cfg Config) (*Host, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	probes, err := keepalive.NewScheduler(cfg.Keepalive)
	if err != nil {
		return nil, err
	}
	origins, err := parseOrigins(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	cfg.Keepalive = probes.Config()
	h := &Host{
		cfg:       cfg,
		probes:    probes,
		readLimit: int64(cfg.MaxChunk) + int64(cfg.MaxHeader) + 1024,
		wsBufs:    newWSBufPool(cfg.PieceSize, cfg.MaxHeader),
		log:       cfg.LoggerFactory.NewLogger("transport"),
		kaLog:     cfg.LoggerFactory.NewLogger("keepalive"),
		listeners: map[net.Listener]struct{}{},
	}
	// No buffer sizes: gorilla then reuses the HTTP server's buffers for
	// the handshake and allocates none of its own. Its Conn is dropped
	// right after the upgrade (see wsHandler.ServeHTTP).
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.HandshakeTimeout,
		Subprotocols:     []string{Subprotocol},
		CheckOrigin:      origins.check,
	}
	return h, nil
}

// Config returns the Host's configuration with its defaults filled in,
// e.g. the HandshakeTimeout an http.Server serving WebSocketHandler
// should use.
func (h *Host) Config() Config { return h.cfg }

// Stats is a snapshot of a Host's counters.
type Stats struct {
	// Keepalive sums the keepalive counters of all the Host's
	// connections: probes sent, answered and missed, closes for liveness,
	// mode switches, inbound Pings and bodiless SENDs, floods.
	Keepalive keepalive.Stats
	// Closed counts closed connections by reason; reasons that never
	// happened are left out.
	Closed map[CloseReason]uint64
	// Open counts the connections open now by kind, accepted and dialled.
	Open map[Kind]int64
	// HandshakesRefused counts the WebSocket handshakes WebSocketHandler
	// refused, by reason: "subprotocol" (msrp not offered, HTTP 400),
	// "origin" (an Origin not admitted, 403), "bad-request" (another
	// malformed upgrade), "stopped" (after Close, 503). Every reason is
	// present, zeros included.
	HandshakesRefused map[string]uint64
	// TLSFailures counts the connections of ServeTLS listeners whose TLS
	// handshake failed or timed out.
	TLSFailures uint64
}

// Reasons a WebSocket handshake is refused, as indexes of Host.wsRefused.
const (
	refusedSubprotocol = iota
	refusedOrigin
	refusedBadRequest
	refusedStopped
	numRefusals
)

var refusalNames = [numRefusals]string{"subprotocol", "origin", "bad-request", "stopped"}

// Stats returns the Host's counters. It is safe from any goroutine.
func (h *Host) Stats() Stats {
	s := Stats{
		Keepalive: h.totals.Snapshot(),
		Closed:    h.closes.snapshot(),
		Open:      make(map[Kind]int64, numKinds),
	}
	for k := range numKinds {
		s.Open[k] = h.open[k].Load()
	}
	s.HandshakesRefused = make(map[string]uint64, numRefusals)
	for i, name := range refusalNames {
		s.HandshakesRefused[name] = h.wsRefused[i].Load()
	}
	s.TLSFailures = h.tlsFailures.Load()
	return s
}

// Close stops the Host: the listeners that ServeStream and ServeTLS serve
// are closed (they return ErrHostClosed), WebSocket handlers refuse
// further handshakes with HTTP 503, Dial fails with ErrHostClosed, and
// every open connection is closed with ReasonShutdown. A graceful stop
// closes its connections first, as relay.Server.Shutdown does. Close is
// safe to call more than once.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	for l := range h.listeners {
		_ = l.Close()
	}
	var open []*Conn
	for c := h.conns; c != nil; c = c.next {
		open = append(open, c)
	}
	h.mu.Unlock()
	for _, c := range open {
		_ = c.Close(ReasonShutdown, "transport host closed")
	}
	return nil
}

func (h *Host) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// addListener registers l for Close; it fails once the Host is closed.
func (h *Host) addListener(l net.Listener) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.listeners[l] = struct{}{}
	return true
}

func (h *Host) removeListener(l net.Listener) {
	h.mu.Lock()
	delete(h.listeners, l)
	h.mu.Unlock()
}

// track adds c to the open connections; it fails once the Host is
// closed. The list is threaded through the Conns themselves: two pointers
// per connection, no map to grow with a relay's many idle connections.
func (h *Host) track(c *Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	c.next = h.conns
	if h.conns != nil {
		h.conns.prev = c
	}
	h.conns = c
	h.open[c.kind].Add(1)
	return true
}

// untrack removes c, which Close calls once, from the open connections.
func (h *Host) untrack(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.prev != nil {
		c.prev.next = c.next
	} else if h.conns == c {
		h.conns = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	h.open[c.kind].Add(-1)
}
