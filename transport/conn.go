package transport

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// Frame is one piece of an incoming chunk.
//
// Msg holds the start line and headers; all pieces of one chunk share the
// same *msrp.Message. Msg.Body is this piece: nil for a bodiless request
// (always one Frame with Last set), otherwise at most Config.PieceSize
// bytes, valid only until the next Read (it aliases the read buffer: zero
// copy). Offset is the piece's offset within the chunk's body. Last marks
// the chunk's final piece, which may be empty; then Msg.Flag is the
// chunk's end-line flag.
//
// Err, when set, is a non-fatal *msrp.ParseError (400, 413, ...) that the
// layer above should answer with its Code; Msg then carries the start line
// (transaction id) and no body, and the rest of the chunk is skipped.
type Frame struct {
	Msg    *msrp.Message
	Offset int64
	Last   bool
	Err    error
}

// Conn carries whole MSRP chunks over a WebSocket, TCP or TLS connection
// and keeps it alive. See the package documentation for its concurrency
// rules. Every field is sized for the many idle connections a relay holds:
// no goroutine of its own, no buffers while idle.
type Conn struct {
	h      *Host
	nc     net.Conn          // the socket (a *tls.Conn for TLS and wss)
	tcp    *net.TCPConn      // the socket when it is plain TCP: writes resume, big chunks go by writev
	rd     *msrp.Reader      // nil for WebSocket
	keeper *keepalive.Keeper // started only once set, see newConn

	counters keepalive.Counters
	limiter  keepalive.Limiter // reader goroutine only

	// Reader state, owned by the reader goroutine.
	wsr   ws.Reader     // WebSocket frames; unused for TCP and TLS
	ws    *wsIn         // the chunk in the WebSocket message being read; nil between messages
	cur   *msrp.Message // chunk being delivered in pieces
	off   int64
	fatal error // TCP, TLS: a fatal error answered, to close on the next Read

	wmu  sync.Mutex // the write path: one whole chunk at a time
	held int        // guarded by wmu: Holds not yet released
	out  []byte     // guarded by wmu: chunks queued while held

	beforeRead func() // reader goroutine only, see SetBeforeRead
	headStart  int64  // when the header block being read began, Unix nanoseconds (read timeouts)

	peerURI  atomic.Pointer[string]
	localURI atomic.Pointer[string]

	prev, next *Conn // in the Host's list of open connections, guarded by its mu

	closeOnce sync.Once
	reason    atomic.Int32 // after the Once: the two share 16 bytes
	done      chan struct{}
	detail    atomic.Pointer[string]

	// The small fields last, together: an idle connection's Conn then
	// fits a smaller size class.
	kind     Kind
	client   bool      // we dialled it: WebSocket frames we send are masked, those we read are not
	deadline readPhase // the read deadline armed, if any; reader goroutine only
}

// newConn makes a Conn of nc, an established connection (WebSocket
// handshake done); client says that we dialled it. Once the Host is
// closed it closes nc and fails with ErrHostClosed.
func (h *Host) newConn(kind Kind, nc net.Conn, client bool) (*Conn, error) {
	c := &Conn{h: h, kind: kind, nc: nc, client: client, done: make(chan struct{})}
	tuneSocket(nc)
	c.tcp = plainTCP(nc)
	if kind.IsWebSocket() {
		c.wsr.Init(nc, c.tcp, client, h.readLimit, (*wsLink)(c))
	} else {
		c.rd = msrp.NewReader(hookReader{c: c, r: nc}, h.cfg.MaxHeader)
	}
	k, err := keepalive.New(h.probes, (*keeperLink)(c), h.kaLog, &c.counters, &h.totals)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	c.keeper = k
	if !h.track(c) {
		_ = nc.Close()
		return nil, ErrHostClosed
	}
	// Started once stored: the Scheduler's goroutines may reach Close
	// (a dead peer), which stops it.
	k.Start()
	return c, nil
}

// Kind returns the kind of connection.
func (c *Conn) Kind() Kind { return c.kind }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns our network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// NetConn returns the underlying connection (a *tls.Conn for TLS, e.g. to
// read the peer's certificates). Do not read from or write to it.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Stats returns this connection's keepalive counters.
func (c *Conn) Stats() keepalive.Stats { return c.counters.Snapshot() }

// Keepalive returns the connection's probing state.
func (c *Conn) Keepalive() keepalive.State { return c.keeper.State() }

// Done is closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Reason returns why the connection was closed, or ReasonNone while open.
func (c *Conn) Reason() CloseReason { return CloseReason(c.reason.Load()) }

func (c *Conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// closeWait bounds the close frame we try to send on the way out.
const closeWait = time.Second

// Close closes the connection for reason, logging the reason with the
// peer and detail once and counting it. Later calls do nothing and return
// nil. A WebSocket peer gets a close frame whose code says what happened
// (RFC 6455 section 7.4.1, see closeCode) and whose reason text is the
// close reason and detail; none when the socket is broken or too slow to
// take it.
func (c *Conn) Close(reason CloseReason, detail string) error {
	return c.close(reason, detail, closeCode(reason))
}

// close is Close with the status code of the close frame a WebSocket peer
// gets; 0 sends none.
func (c *Conn) close(reason CloseReason, detail string, code int) error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.reason.Store(int32(reason))
		c.detail.Store(&detail)
		close(c.done)
	})
	if !first {
		return nil
	}
	c.keeper.Stop()
	c.h.untrack(c)
	c.h.closes.add(reason)
	c.logClose(reason, detail)
	if c.kind.IsWebSocket() && code != 0 {
		wait := min(closeWait, c.h.cfg.WriteTimeout)
		msg := websocket.FormatCloseMessage(code, truncateUTF8(reason.String()+": "+detail, 120))
		c.writeCloseFrame(msg, wait)
	}
	if reason == ReasonShutdown {
		// Let the last chunks and REPORTs reach the peer: a close with
		// unread input left would reset the connection and throw away
		// what is still queued to it. Half-close, and close a moment later.
		if !c.kind.IsWebSocket() {
			closeWrite(c.nc)
		}
		time.AfterFunc(shutdownLinger, func() { _ = c.nc.Close() })
		return nil
	}
	return c.nc.Close()
}

// shutdownLinger is how long a connection closed for shutdown keeps its
// socket after the half-close, for queued bytes to drain.
const shutdownLinger = 300 * time.Millisecond

// closeWrite sends FIN (and TLS close_notify) after what is queued.
func closeWrite(nc net.Conn) {
	if c, ok := nc.(*tls.Conn); ok {
		_ = c.CloseWrite()
	} else if c := plainTCP(nc); c != nil {
		_ = c.CloseWrite()
	}
}

// closeCode is the status code of the close frame a WebSocket peer gets
// for r (RFC 6455 section 7.4.1); 0 for none:
//
//   - 1000 (normal closure) only when the layer above is done with the
//     connection (ReasonLocal);
//   - 1001 (going away) when we shut down;
//   - 1002 (protocol error) for broken framing (1009 for a message over
//     the read limit, see ws.Error);
//   - 1008 (policy violation) when we refuse the peer: policy, floods,
//     a chunk not finished in time, an operator closing it;
//   - 1011 (unexpected condition) for a keepalive timeout: the peer
//     stopped answering, which is no normal closure; if it is really gone
//     it sees nothing, and its stack reports 1006;
//   - none when the peer closed first (its close frame was echoed) or the
//     socket is unusable (read or write errors, a slow consumer).
func closeCode(r CloseReason) int {
	switch r {
	case ReasonLocal:
		return websocket.CloseNormalClosure
	case ReasonShutdown:
		return websocket.CloseGoingAway
	case ReasonPolicy, ReasonFlood, ReasonReadTimeout, ReasonAdmin:
		return websocket.ClosePolicyViolation
	case ReasonProtocolError:
		return websocket.CloseProtocolError
	case ReasonKeepaliveTimeout:
		return websocket.CloseInternalServerErr
	}
	return 0 // the reader answered the peer's close, or the socket is unusable
}

func (c *Conn) logClose(r CloseReason, detail string) {
	const format = "closed %s connection with %s: %s (%s)"
	switch r {
	case ReasonPeerClosed, ReasonShutdown, ReasonLocal, ReasonPolicy, ReasonAdmin:
		c.h.log.Infof(format, c.kind, c.nc.RemoteAddr(), r, detail)
	default:
		c.h.log.Warnf(format, c.kind, c.nc.RemoteAddr(), r, detail)
	}
}

// closedErr returns the error Read and Send give once the conn is closed.
func (c *Conn) closedErr(cause error) error {
	d := ""
	if p := c.detail.Load(); p != nil {
		d = *p
	}
	return &CloseError{Reason: c.Reason(), Detail: d, Err: cause}
}

// writeCloseFrame sends a Close frame unless a write is stuck: a peer
// that does not take our chunks will not read a Close frame either, and
// Close must not wait for it.
func (c *Conn) writeCloseFrame(msg []byte, wait time.Duration) {
	if !c.wmu.TryLock() {
		return
	}
	defer c.wmu.Unlock()
	var buf [ws.MaxFrameHeader + ws.MaxControlPayload]byte
	frame := ws.AppendFrame(buf[:0], ws.OpClose, msg, c.client)
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	_, _ = c.nc.Write(frame)
}
