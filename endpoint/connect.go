package endpoint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// connect connects to the first relay that takes us (see candidates):
// lost is the dial target of the relay just lost, tried last, or "".
func (e *Endpoint) connect(ctx context.Context, lost string) (*transport.Conn, session, error) {
	lctx, cancel := context.WithTimeout(ctx, e.cfg.DialTimeout)
	ts, err := e.candidates(lctx, lost)
	cancel()
	if err != nil {
		return nil, session{}, err
	}
	var errs []error
	for _, t := range ts {
		c, s, err := e.connectTo(ctx, t)
		if err == nil {
			return c, s, nil
		}
		if len(ts) > 1 {
			e.log.Debugf("relay %s: %v", t.name, err)
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 1 {
		return nil, session{}, errs[0]
	}
	return nil, session{}, fmt.Errorf("endpoint: no relay took us: %w", errors.Join(errs...))
}

// connectTo dials relay t and runs the AUTH exchange, reading the
// connection directly: nobody knows our Use-Path yet, so nothing but AUTH
// responses can arrive. The read loop starts afterwards.
func (e *Endpoint) connectTo(ctx context.Context, t relayTarget) (*transport.Conn, session, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.DialTimeout)
	defer cancel()
	tg, err := transport.ParseTarget(t.dial)
	if err != nil {
		return nil, session{}, fmt.Errorf("endpoint: %w", err)
	}
	c, err := e.tr.Dial(ctx, tg, transport.DialOptions{TLSConfig: e.cfg.TLSConfig})
	if err != nil {
		return nil, session{}, fmt.Errorf("endpoint: %w", err)
	}
	// A context that ends mid-AUTH closes the connection, which ends Read.
	stop := context.AfterFunc(ctx, func() { _ = c.Close(transport.ReasonLocal, "AUTH timed out") })
	defer stop()
	s := session{target: t, uri: t.ownURI(c.LocalAddr())}
	res, err := e.authenticate(func(req *msrp.Message) (*msrp.Message, error) {
		return e.directRoundTrip(c, req)
	}, t.uri, s.uri)
	if err != nil {
		_ = c.Close(transport.ReasonLocal, "AUTH failed")
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		if e.cfg.Expires > 0 && !errors.Is(err, ErrAuth) {
			err = fmt.Errorf("%w (hint: Kamailio 5.6 breaks on an authenticated AUTH with Expires; try Expires 0)", err)
		}
		return nil, session{}, err
	}
	s.usePath, s.expires = res.usePath, res.expires
	e.log.Infof("AUTH to %s as %q ok: Use-Path %s, expires %v", t.name, e.cfg.User, s.usePath, s.expires)
	return c, s, nil
}

// directRoundTrip sends req and reads c until its response.
func (e *Endpoint) directRoundTrip(c *transport.Conn, req *msrp.Message) (*msrp.Message, error) {
	if err := e.send(c, req); err != nil {
		return nil, err
	}
	for {
		f, err := c.Read()
		if err != nil {
			return nil, err
		}
		if f.Offset == 0 {
			e.trace("in", c, f.Msg)
		}
		if f.Last && f.Err == nil && !f.Msg.IsRequest() && f.Msg.TransactionID == req.TransactionID {
			return f.Msg, nil
		}
	}
}

// run serves connection c, and after it is lost, reconnects with backoff
// and serves the next, until Close or the attempts are used up. first is
// a frame already read from c, or nil.
func (e *Endpoint) run(c *transport.Conn, first *transport.Frame) {
	defer e.wg.Done()
	defer e.finish()
	for c != nil {
		err := e.readLoop(c, first)
		first = nil
		if !e.lost(c, err) {
			break
		}
		c = e.reconnect(e.relayOf())
	}
}

// lost forgets connection c and fails what was outstanding on it. It
// reports whether to reconnect.
func (e *Endpoint) lost(c *transport.Conn, cause error) bool {
	e.mu.Lock()
	if e.conn == c {
		e.conn = nil
	}
	if e.refresh != nil {
		e.refresh.Stop()
	}
	closed := e.closed
	failErr := ErrConnectionLost
	if closed {
		failErr = ErrClosed
	}
	finish := e.failAllLocked(fmt.Errorf("%w: %v", failErr, cause))
	again := !closed && e.cfg.ReconnectAttempts != 0
	if !again && e.err == nil {
		e.err = fmt.Errorf("%w: %v", failErr, cause)
	}
	e.mu.Unlock()
	finish()
	if !closed {
		if e.cfg.Relay == "" && c.Reason() == transport.ReasonPeerClosed {
			// Without a relay the peer closing is how a session ends.
			e.log.Infof("connection to %s closed by the peer", e.remoteName(c))
		} else {
			e.log.Warnf("connection to %s lost: %v", e.remoteName(c), cause)
		}
		e.emit(Event{Kind: EventDisconnected, Err: cause})
	}
	return again
}

// relayOf returns the dial target of the current (or last) session's
// relay; relayName its name for logs.
func (e *Endpoint) relayOf() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sess.target.dial
}

func (e *Endpoint) relayName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sess.target.name
}

// reconnect dials and AUTHs again with exponential backoff, trying the
// relay just lost (lost) last. With more than one relay the first attempt
// is at once: the others are not known to be down. It returns nil after
// Close or when the attempts are used up.
func (e *Endpoint) reconnect(lost string) *transport.Conn {
	wait := e.cfg.BackoffInitial
	first := wait
	if len(e.specs) > 1 || e.specs[0].srv {
		first = 0
	}
	var last error
	for attempt := 1; e.cfg.ReconnectAttempts < 0 || attempt <= e.cfg.ReconnectAttempts; attempt++ {
		t := time.NewTimer(wait)
		if attempt == 1 {
			t.Reset(first)
		}
		select {
		case <-e.closing:
			t.Stop()
			return nil
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { // Close interrupts the attempt
			select {
			case <-e.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		c, s, err := e.connect(ctx, lost)
		cancel()
		if err == nil {
			e.mu.Lock()
			if e.closed {
				e.mu.Unlock()
				_ = c.Close(transport.ReasonLocal, "endpoint closed")
				return nil
			}
			e.mu.Unlock()
			e.install(c, s)
			e.log.Infof("reconnected to %s after %d attempt(s): new Use-Path %s", s.target.name, attempt, s.usePath)
			e.emit(Event{Kind: EventReconnected, UsePath: s.usePath, Path: s.path(), Attempt: attempt})
			return c
		}
		last = err
		// One line for the outage, not one per attempt: the next says
		// when it ends (reconnected) or gives up.
		logf := e.log.Debugf
		if attempt == 1 {
			logf = e.log.Infof
		}
		logf("reconnect attempt %d to %s failed: %v (next in %v)", attempt, e.cfg.Relay, err, min(2*wait, e.cfg.BackoffMax))
		e.emit(Event{Kind: EventReconnectFailed, Attempt: attempt, Err: err})
		wait = min(2*wait, e.cfg.BackoffMax)
	}
	e.mu.Lock()
	if e.err == nil {
		e.err = fmt.Errorf("%w: reconnect gave up: %w", ErrConnectionLost, last)
	}
	e.mu.Unlock()
	if last != nil && !errors.Is(last, ErrClosed) {
		e.log.Warnf("gave up reconnecting to %s: %v", e.cfg.Relay, last)
	}
	if !errors.Is(last, ErrClosed) {
		e.emit(Event{Kind: EventGaveUp, Err: last})
	}
	return nil
}

// remoteName names the other end of c for logs: the relay, or the peer's
// address.
func (e *Endpoint) remoteName(c *transport.Conn) string {
	if e.cfg.Relay != "" {
		return e.relayName()
	}
	return "peer " + c.RemoteAddr().String()
}
