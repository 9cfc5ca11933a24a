package endpoint

import (
	"context"
	"fmt"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// openDirect sets up a session without a relay: a URI on the Listener's
// address, no connection yet.
func (e *Endpoint) openDirect() (*Endpoint, error) {
	e.ln = e.cfg.Listener
	uri := e.ln.newURI()
	u, _ := msrp.ParseURI(uri)
	if err := e.ln.add(u.SessionID, e); err != nil {
		return nil, err
	}
	e.sess = session{uri: uri}
	e.wg.Add(1)
	go e.sweep()
	return e, nil
}

// accept binds connection c, which a Listener accepted, to this session:
// own is the last To-Path URI of its first request, from its From-Path.
// It returns the status code to refuse with, or 0; extra is set when c
// is a further connection from the relay of a peer we connected to
// ourselves (a relay that does not send back over the connection we
// opened dials our URI instead), which is read but never written to
// except for responses and REPORTs.
func (e *Endpoint) accept(c *transport.Conn, own msrp.URI, from msrp.Path) (code int, why string, extra bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if u, err := msrp.ParseURI(e.sess.uri); err != nil || !u.Equal(own) {
		return 481, "no such session", false
	}
	last := from[len(from)-1]
	var peer msrp.Path
	if e.peerPath != "" {
		peer, _ = msrp.ParsePath(e.peerPath)
	}
	switch {
	case e.closed:
		return 481, "session closed", false
	case e.peerPath != "" && !last.Equal(e.peer):
		// RFC 4975 section 7.3: the request must come from the peer
		// whose path the SDP gave.
		return 403, "From-Path does not match the session's peer", false
	case e.running && len(peer) > 1 && len(from) > 1 && from[0].Equal(peer[0]):
		if e.extra == nil {
			e.extra = map[*transport.Conn]struct{}{}
		}
		e.extra[c] = struct{}{}
		e.wg.Add(1)
		return 0, "", true
	case e.running:
		return 506, "session already bound to another connection", false
	}
	e.conn, e.running, e.accepted = c, true, last
	e.wg.Add(1) // run's
	return 0, "", false
}

// serveExtra reads a further connection of the session (see accept)
// until it closes; it does not end the session.
func (e *Endpoint) serveExtra(c *transport.Conn, first *transport.Frame) {
	defer e.wg.Done()
	err := e.readLoop(c, first)
	e.mu.Lock()
	delete(e.extra, c)
	e.mu.Unlock()
	e.log.Debugf("further connection from %s closed: %v", c.RemoteAddr(), err)
}

// Connect starts the session with a peer whose SDP path is peerPath.
// active says we open the connection (RFC 6135 a=setup:active): without
// a relay Connect dials the first URI of peerPath; either way it then
// sends a bodiless SEND, which binds the connection (RFC 4975 section
// 5.4) and, through relays, makes them connect onward, and waits for its
// 200; without a relay a request from the peer shows the session up as
// well, should ctx or the connection end before that 200 comes. Passive,
// Connect waits for the peer's first request (without a relay, for the
// peer's connection to the Listener). ctx bounds the wait. A session
// that came up and ended before Connect looked counts as connected: what
// the peer sent is in Messages, and Done is closed.
func (e *Endpoint) Connect(ctx context.Context, peerPath string, active bool) error {
	p, err := msrp.ParsePath(peerPath)
	if err != nil {
		return fmt.Errorf("endpoint: peer path %q: %w", peerPath, err)
	}
	e.mu.Lock()
	e.peerPath, e.peer = p.String(), p[len(p)-1]
	mismatch := e.ln != nil && e.running && !e.accepted.Equal(e.peer)
	c := e.conn
	e.mu.Unlock()
	if mismatch {
		// The connection came before we knew the peer's path; it is not
		// the peer's.
		_ = c.Close(transport.ReasonPolicy, "From-Path does not match the session's peer")
		return fmt.Errorf("endpoint: the connection from %s is not from the peer %s", c.RemoteAddr(), p[len(p)-1])
	}
	if !active {
		select {
		case <-e.bound:
			return nil
		case <-e.done:
		case <-ctx.Done():
		}
		// The peer may have come, sent and gone before we looked: a
		// select picks among ready cases at random, and its messages
		// (answered 200, so the peer counts them delivered) are in the
		// inbox.
		if e.heardPeer() {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: the peer sent no request (%w)", ErrTimeout, ctx.Err())
		}
		return fmt.Errorf("endpoint: waiting for the peer: %w", e.Err())
	}
	if e.ln == nil {
		return e.bind(ctx)
	}
	if err := e.dialPeer(ctx, p[0]); err != nil {
		return err
	}
	err = e.bind(ctx)
	if err != nil && StatusCode(err) == 0 && e.heardPeer() {
		// Without a relay the connection is the peer's own, and the peer
		// has sent on it: the session is up, as the passive side counts
		// it, though our bodiless SEND's 200 was still behind what the
		// peer sent when ctx or the connection ended (the call's BYE can
		// overtake it). What the peer sent, which we answered 200, is in
		// Messages: failing here would drop it unseen.
		e.log.Debugf("bind: %v; the peer's requests came, so the session was up", err)
		return nil
	}
	return err
}

// heardPeer reports whether a request from the peer has arrived.
func (e *Endpoint) heardPeer() bool {
	select {
	case <-e.bound:
		return true
	default:
		return false
	}
}

// dialPeer opens the connection of a session without a relay to u, the
// first URI of the peer's path.
func (e *Endpoint) dialPeer(ctx context.Context, u msrp.URI) error {
	if u.Transport != "tcp" {
		return fmt.Errorf("endpoint: cannot connect to %s: transport %q is not tcp", u, u.Transport)
	}
	e.mu.Lock()
	connected := e.conn != nil
	e.mu.Unlock()
	if connected {
		return nil // the peer connected first: use its connection
	}
	dctx, cancel := context.WithTimeout(ctx, e.cfg.DialTimeout)
	defer cancel()
	tg, err := transport.ParseTarget(u.String())
	if err != nil {
		return fmt.Errorf("endpoint: connect to peer: %w", err)
	}
	c, err := e.tr.Dial(dctx, tg, transport.DialOptions{TLSConfig: e.cfg.TLSConfig})
	if err != nil {
		return fmt.Errorf("endpoint: connect to peer: %w", err)
	}
	e.mu.Lock()
	switch {
	case e.closed:
		e.mu.Unlock()
		_ = c.Close(transport.ReasonLocal, "endpoint closed")
		return ErrClosed
	case e.running:
		e.mu.Unlock()
		_ = c.Close(transport.ReasonLocal, "the peer connected first")
		return nil
	}
	e.conn, e.running = c, true
	e.wg.Add(1)
	e.mu.Unlock()
	e.log.Infof("connected to peer %s from %s", u, c.LocalAddr())
	go e.run(c, nil)
	return nil
}

// bind sends the bodiless SEND that starts the session and waits for its
// 200 (RFC 4975 section 7.1).
func (e *Endpoint) bind(ctx context.Context) error {
	c, s, err := e.current()
	if err != nil {
		return fmt.Errorf("endpoint: bind: %w", err)
	}
	req := &msrp.Message{
		TransactionID: msrp.NewTransactionID(),
		Method:        msrp.MethodSEND,
		Headers: []msrp.Header{
			{Name: msrp.HeaderToPath, Value: e.Peer()},
			{Name: msrp.HeaderFromPath, Value: s.uri},
			{Name: msrp.HeaderMessageID, Value: msrp.NewMessageID()},
			{Name: msrp.HeaderByteRange, Value: "1-0/0"},
		},
		Flag: msrp.FlagComplete,
	}
	resp, err := e.roundTrip(ctx, c, req)
	if err != nil {
		return fmt.Errorf("endpoint: bind: bodiless SEND to %s: %w", e.Peer(), err)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("endpoint: bind: bodiless SEND to %s: %w", e.Peer(),
			&StatusError{Code: resp.StatusCode, Comment: resp.Comment})
	}
	return nil
}

// testHookRoundTripSent, if set, runs in roundTrip between sending the
// request and waiting for its response.
var testHookRoundTripSent func()

// roundTrip sends req on c and waits, through the read loop, for its
// response, until ctx ends or the Endpoint stops.
func (e *Endpoint) roundTrip(ctx context.Context, c *transport.Conn, req *msrp.Message) (*msrp.Message, error) {
	t := &txn{deadline: deadlineOf(ctx, e.cfg.ChunkTimeout), reply: make(chan *msrp.Message, 1), conn: c}
	e.mu.Lock()
	e.addTxnLocked(req.TransactionID, t)
	e.mu.Unlock()
	forget := func() {
		e.mu.Lock()
		delete(e.txns, req.TransactionID)
		e.mu.Unlock()
	}
	if err := e.send(c, req); err != nil {
		forget()
		return nil, err
	}
	if testHookRoundTripSent != nil {
		testHookRoundTripSent()
	}
	var m *msrp.Message
	select {
	case m = <-t.reply:
	case <-ctx.Done():
	case <-e.done:
	}
	if m == nil {
		// A response that came before the end (of the connection, or of
		// ctx) counts, however late we look: a select picks among ready
		// cases at random, and a peer that answers and closes at once
		// makes both ready.
		forget() // after it, no response is on its way (handleResponse)
		select {
		case m = <-t.reply:
		default:
		}
	}
	switch {
	case m != nil:
		return m, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %s %s: %w", ErrTimeout, req.Method, req.TransactionID, ctx.Err())
	case e.Err() != nil:
		return nil, e.Err()
	}
	return nil, fmt.Errorf("%w: %s %s got no response", ErrTimeout, req.Method, req.TransactionID)
}
