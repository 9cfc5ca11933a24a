package endpoint

import (
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// minRefresh keeps a relay that grants tiny Expires values from making us
// spin.
const minRefresh = time.Second

// armRefreshLocked schedules the AUTH refresh of connection c's session
// before its Expires runs out (RFC 4976 section 5.1). e.mu must be held.
func (e *Endpoint) armRefreshLocked(c *transport.Conn) {
	if e.refresh != nil {
		e.refresh.Stop()
		e.refresh = nil
	}
	if e.sess.expires <= 0 {
		return
	}
	d := max(time.Duration(float64(e.sess.expires)*DefaultRefreshFraction), minRefresh)
	e.refresh = time.AfterFunc(d, func() {
		e.mu.Lock()
		if e.closed || e.conn != c {
			e.mu.Unlock()
			return
		}
		// run still holds its WaitGroup count while c is current.
		e.wg.Add(1)
		s := e.sess
		e.mu.Unlock()
		defer e.wg.Done()
		e.refreshAuth(c, s)
	})
}

// refreshAuth sends a new AUTH to our session URI, which keeps the
// session and renews its Expires. If it fails the connection is closed, so
// that the reconnect logic obtains a new session.
func (e *Endpoint) refreshAuth(c *transport.Conn, s session) {
	res, err := e.authenticate(func(req *msrp.Message) (*msrp.Message, error) {
		return e.txnRoundTrip(c, req)
	}, lastField(s.usePath), s.uri)
	if err != nil {
		e.log.Warnf("AUTH refresh for %s failed: %v; reconnecting", s.usePath, err)
		_ = c.Close(transport.ReasonLocal, "AUTH refresh failed")
		return
	}
	e.mu.Lock()
	if e.conn != c {
		e.mu.Unlock()
		return
	}
	changed := res.usePath != e.sess.usePath
	e.sess.usePath, e.sess.expires = res.usePath, res.expires
	e.armRefreshLocked(c)
	s = e.sess
	e.mu.Unlock()
	if changed {
		e.log.Infof("AUTH refresh gave a new Use-Path %s", s.usePath)
	}
	e.emit(Event{Kind: EventRefreshed, UsePath: s.usePath, Path: s.path(), Changed: changed})
}
