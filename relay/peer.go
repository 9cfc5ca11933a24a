package relay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
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

	mu sync.Mutex
	// sessions are those this connection owns: most own one, few more
	// than a handful (at most defaultSessionsPerConn), and they are only
	// ever listed, so a slice costs an idle client less than a map.
	sessions []*session
	// pending are the requests forwarded over this connection, by
	// transaction id; made when the first one is.
	pending      map[string]*txn
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
	// tally counts this burst's chunks for the relay's Stats (tally.go),
	// nil between bursts (see counts). Reader goroutine only.
	tally *tally
	// closeDetail is why the connection closed, as its last Read said;
	// set by serve just before cleanup, on the reader goroutine.
	closeDetail string
}

func newPeer(s *Server, c *transport.Conn, outbound bool) *peer {
	p := &peer{
		srv:      s,
		conn:     c,
		addr:     c.RemoteAddr().String(),
		outbound: outbound,
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
	defer p.beforeRead() // the last burst's holds and counts
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
			var ce *transport.CloseError
			if errors.As(err, &ce) {
				p.closeDetail = ce.Detail
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
// burst it handled is over. Its writes go out first, so that the counts
// flushed after them see the forwarding latency whole.
func (p *peer) beforeRead() {
	p.releaseHolds()
	if t := p.tally; t != nil {
		t.flush(&p.srv.stats, p.now)
		tallies.Put(t)
		p.tally = nil
	}
	p.now = time.Time{}
}

// tallies keeps the tallies of bursts that ended, so that an idle
// connection holds none.
var tallies = sync.Pool{New: func() any { return new(tally) }}

// counts returns the tally of the burst being handled; reader goroutine
// only.
func (p *peer) counts() *tally {
	if p.tally == nil {
		p.tally = tallies.Get().(*tally)
	}
	return p.tally
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
	p.countResponse(code)
	if err := p.send(m.Response(code, comment)); err != nil {
		p.srv.log.Debugf("%s: response %d to %s: %v", p.addr, code, m.TransactionID, err)
	}
}

// countResponse counts a response the relay sends; reader goroutine only.
func (p *peer) countResponse(code int) {
	t := p.counts()
	t.respOut[classIndex(code)]++
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
	p.sessions = append(p.sessions, s)
	return true
}

func (p *peer) forgetSession(s *session) {
	p.mu.Lock()
	for i, o := range p.sessions {
		if o == s {
			last := len(p.sessions) - 1
			p.sessions[i] = p.sessions[last]
			p.sessions[last] = nil
			p.sessions = p.sessions[:last]
			break
		}
	}
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
	p.sessions = nil
	p.pending = nil
	p.stopSweep()
	if p.probation != nil {
		p.probation.Stop()
	}
	p.mu.Unlock()

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
	// The sessions end after those failures, which their records count
	// (fail finds a session in the table). Meanwhile requests into them
	// fail at the closed connection, with the 481 they get after.
	why, detail := endOf(p.conn.Reason()), p.closeDetail
	if why == EndClosed {
		detail = p.conn.Reason().String()
	}
	for _, s := range sessions {
		p.srv.sessions.remove(s)
		p.srv.endSession(s, why, detail)
	}
	p.srv.forget(p)
	p.srv.log.Debugf("%s: closed (%s), %d sessions invalidated, %d transactions failed",
		p.addr, p.conn.Reason(), len(sessions), len(pending))
}
