package relay

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// peer is the relay's state for one connection: a client, another relay,
// or an outbound connection we dialled to a next hop.
type peer struct {
	srv      *Server
	conn     *transport.Conn
	addr     string
	outbound bool // we dialled it; it is a next hop, not a client
	counted  bool // counted against MaxConnections by handle, not at accept

	// For connection reuse (reuse.go): remote is the address of an
	// inbound TCP or TLS connection, relayCert the verified certificate
	// of a relay that connected with mutual TLS. aliasKeys are the next
	// hops found to be this relay (guarded by srv.mu).
	remote    netip.AddrPort
	relayCert *x509.Certificate
	aliasKeys []string
	// heard is set once the connection delivered anything: see cleanup
	// and forward.
	heard atomic.Bool

	mu           sync.Mutex
	sessions     map[string]*session // sessions this connection owns
	pending      map[string]*txn     // requests forwarded over this connection, by transaction id
	authFailures int
	closed       bool

	// deadlines queues the pending transactions whose timer started, in
	// that order; sweep fires for the earliest and is running (or its
	// function is about to run) while sweepArmed is set.
	deadlines  deadlineQueue
	sweep      *time.Timer
	sweepArmed bool

	// proven is set once a request from this connection succeeded, which
	// ends its probation (RFC 4976 section 6.1).
	proven    bool
	probation *time.Timer

	// cur is the request chunk being read, whose pieces are still coming;
	// busy mirrors cur != nil for Shutdown, which runs elsewhere.
	cur  *inbound
	busy atomic.Bool
	// paths caches the parsed paths of this connection's requests
	// (reader goroutine only).
	paths pathCache
	// holds are the connections this reader holds (transport.Conn.Hold)
	// until it next waits for input (reader goroutine only).
	holds []*peer
	now   time.Time // see clock; reader goroutine only
}

func newPeer(s *Server, c *transport.Conn, outbound bool) *peer {
	p := &peer{
		srv:      s,
		conn:     c,
		addr:     c.RemoteAddr().String(),
		outbound: outbound,
		sessions: map[string]*session{},
		pending:  map[string]*txn{},
		proven:   outbound,
	}
	if !outbound && !c.Kind().IsWebSocket() {
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ap := ta.AddrPort()
			p.remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		if tc, ok := c.NetConn().(*tls.Conn); ok {
			if st := tc.ConnectionState(); len(st.VerifiedChains) > 0 {
				p.relayCert = st.VerifiedChains[0][0]
			}
		}
	}
	return p
}

// gone reports whether the connection is closed.
func (p *peer) gone() bool {
	select {
	case <-p.conn.Done():
		return true
	default:
		return false
	}
}

// hasSessions reports whether the connection holds Use-Path URIs: it is
// an authenticated client (or a relay for its clients).
func (p *peer) hasSessions() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions) > 0
}

// serve runs the read loop of one connection until it closes, then
// releases everything that depended on it.
func (p *peer) serve() {
	if !p.outbound {
		p.probation = time.AfterFunc(p.srv.cfg.Probation, p.probationOver)
	}
	defer p.cleanup()
	defer p.releaseHolds()
	p.conn.SetBeforeRead(p.beforeRead)
	for {
		f, err := p.conn.Read()
		if err != nil {
			if in := p.cur; in != nil {
				// The sender went away mid-chunk: whatever of it went
				// ahead is closed at the next hop with an abort flag.
				p.cur = nil
				in.abort(408, "sender lost mid-chunk", err, true)
				p.busy.Store(false)
			}
			return
		}
		if !p.heard.Load() { // a load is cheaper than a store per chunk
			p.heard.Store(true)
		}
		p.handleFrame(f)
	}
}

func (p *peer) probationOver() {
	p.mu.Lock()
	proven := p.proven
	p.mu.Unlock()
	if !proven {
		p.close(transport.ReasonPolicy, "no successful request within the probation time")
	}
}

// succeeded records that a request from this connection was accepted.
func (p *peer) succeeded() {
	p.mu.Lock()
	if !p.proven && p.probation != nil {
		p.probation.Stop() // and let the timer go
		p.probation = nil
	}
	p.proven = true
	p.mu.Unlock()
}

func (p *peer) close(reason transport.CloseReason, detail string) {
	p.conn.Close(reason, detail)
}

// send writes a chunk to this connection; it blocks while the peer is
// slow (backpressure) and fails once the connection is closed.
func (p *peer) send(m *msrp.Message) error {
	p.srv.trace("out", p, m)
	return p.conn.Send(m)
}

// hold holds d's connection until this reader next waits for input, so
// what the reader sends d while working through a burst of chunks goes
// out in one write. Reader goroutine only.
func (p *peer) hold(d *peer) {
	for _, h := range p.holds {
		if h == d {
			return
		}
	}
	if d.conn.Hold() {
		p.holds = append(p.holds, d)
	}
}

// clock returns the time for session expiry checks, read once per burst
// of chunks rather than per chunk (a clock read per chunk was 1.5 % of the
// relay's CPU): beforeRead forgets it. Reader goroutine only.
func (p *peer) clock() time.Time {
	if p.now.IsZero() {
		p.now = time.Now()
	}
	return p.now
}

// beforeRead runs just before the reader waits for network input: the
// burst it handled is over.
func (p *peer) beforeRead() {
	p.now = time.Time{}
	p.releaseHolds()
}

// releaseHolds writes what was queued on the held connections.
func (p *peer) releaseHolds() {
	for i, d := range p.holds {
		if err := d.conn.Release(); err != nil {
			p.srv.log.Debugf("%s: queued chunks to %s: %v", p.addr, d.addr, err)
		}
		p.holds[i] = nil
	}
	p.holds = p.holds[:0]
}

// respond answers request m with code, unless the request is one that is
// never answered (REPORT; SEND with Failure-Report "no", or "partial" and
// code 200).
func (p *peer) respond(m *msrp.Message, code int, comment string) {
	if !needsResponse(m, code) {
		return
	}
	if comment == "" {
		comment = msrp.StatusText(code)
	}
	p.hold(p) // respond runs on p's reader goroutine
	if err := p.send(m.Response(code, comment)); err != nil {
		p.srv.log.Debugf("%s: response %d to %s: %v", p.addr, code, m.TransactionID, err)
	}
}

func needsResponse(m *msrp.Message, code int) bool {
	switch {
	case m.Method == msrp.MethodREPORT:
		return false
	case m.Method == msrp.MethodSEND:
		fr := m.FailureReport()
		return fr != "no" && (code != 200 || fr != "partial")
	}
	return true
}

func (p *peer) addSession(s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.sessions) >= defaultSessionsPerConn {
		return false
	}
	p.sessions[s.id] = s
	return true
}

func (p *peer) forgetSession(s *session) {
	p.mu.Lock()
	delete(p.sessions, s.id)
	p.mu.Unlock()
}

// cleanup runs when the connection is gone: its sessions die (RFC 4976
// section 6.3) and every chunk forwarded over it and not answered yet is
// reported as failed to its sender.
func (p *peer) cleanup() {
	p.mu.Lock()
	p.closed = true
	sessions := p.sessions
	pending := p.pending
	p.sessions = map[string]*session{}
	p.pending = map[string]*txn{}
	p.stopSweep()
	if p.probation != nil {
		p.probation.Stop()
	}
	p.mu.Unlock()

	for _, s := range sessions {
		p.srv.sessions.remove(s)
	}
	// A next hop we dialled that never sent a byte fails like one that
	// could not be dialled: otherwise the two answers would tell a user
	// an open port from a closed one.
	lost := "next hop connection lost"
	if p.outbound && !p.heard.Load() {
		lost = "next hop unreachable"
	}
	for _, t := range pending {
		t.fail(408, lost)
	}
	p.srv.forget(p)
	p.srv.log.Debugf("%s: closed (%s), %d sessions invalidated, %d transactions failed",
		p.addr, p.conn.Reason(), len(sessions), len(pending))
}
