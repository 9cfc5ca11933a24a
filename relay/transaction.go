package relay

import (
	"errors"
	"strconv"
	"strings"

	"github.com/msrpd/msrpd/msrp"
)

var errPeerClosed = errors.New("relay: connection closed")

// txn is a request the relay forwarded and expects a response to. It ends
// exactly once: by a response, by its deadline (see deadlines.go), or by
// the loss of the connection it went out on. Whichever comes first takes
// it out of the pending map of that connection, under its lock.
type txn struct {
	tid    string // on the outgoing connection
	dest   *peer
	src    *peer  // previous hop
	srcTID string // the request's id on the previous hop
	method string
	fr     string // Failure-Report of a SEND
	msgID  string
	// byteRange of the forwarded piece, for failure REPORTs.
	byteRange string
	// backTo and backFrom address REPORTs and responses to the sender.
	// backFrom is also the URI of the session the request was routed
	// by, whose failures count in its SessionInfo (see fail).
	backTo, backFrom string
}

func (p *peer) track(t *txn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.pending == nil {
		p.pending = make(map[string]*txn)
	}
	p.pending[t.tid] = t
	return true
}

// untrack removes and returns the transaction with id tid; nil when it
// already ended. Its deadline stays queued and is dropped lazily.
func (p *peer) untrack(tid string) *txn {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.pending[tid]
	if t == nil {
		return nil
	}
	delete(p.pending, tid)
	p.dropEnded()
	return t
}

// expire handles a transaction whose response never came; it reports
// whether the sender was told.
func (t *txn) expire() bool {
	if t.method == msrp.MethodSEND && t.fr == "partial" {
		return false // "partial" sends no 200: silence is success
	}
	t.fail(408, "")
	return true
}

// fail tells the sender that the request did not get through: a failure
// REPORT for a SEND (unless Failure-Report is "no"), an error response
// for other methods.
func (t *txn) fail(code int, comment string) {
	if comment == "" {
		comment = msrp.StatusText(code)
	}
	var m *msrp.Message
	if t.method == msrp.MethodSEND {
		if t.fr == "no" {
			return
		}
		m = &msrp.Message{
			TransactionID: msrp.NewTransactionID(),
			Method:        msrp.MethodREPORT,
			Headers: []msrp.Header{
				{Name: msrp.HeaderToPath, Value: t.backTo},
				{Name: msrp.HeaderFromPath, Value: t.backFrom},
				{Name: msrp.HeaderMessageID, Value: t.msgID},
				{Name: msrp.HeaderByteRange, Value: t.byteRange},
				{Name: msrp.HeaderStatus, Value: "000 " + strconv.Itoa(code) + " " + comment},
			},
			Flag: msrp.FlagComplete,
		}
	} else {
		m = &msrp.Message{
			TransactionID: t.srcTID,
			StatusCode:    code,
			Comment:       comment,
			Headers: []msrp.Header{
				{Name: msrp.HeaderToPath, Value: t.backTo},
				{Name: msrp.HeaderFromPath, Value: t.backFrom},
			},
			Flag: msrp.FlagComplete,
		}
	}
	s := t.src.srv
	s.stats.failures.Add(1)
	// Failures are rare: the session is looked up now rather than
	// carried by every transaction.
	if u, err := msrp.ParseURI(t.backFrom); err == nil && u.SessionID != "" {
		if sess := s.sessions.lookup(u.SessionID); sess != nil {
			sess.st.failures.Add(1)
		}
	}
	if err := t.src.send(m); err != nil {
		t.src.srv.log.Debugf("%s: failure %d for %s not sent: %v", t.src.addr, code, t.srcTID, err)
	}
}

// handleResponse matches a response to the request we forwarded over this
// connection (RFC 4976 section 6.4.3).
func (p *peer) handleResponse(m *msrp.Message) {
	t := p.untrack(m.TransactionID)
	if t == nil {
		p.srv.log.Debugf("%s: response %d to unknown transaction %s discarded", p.addr, m.StatusCode, m.TransactionID)
		return
	}
	switch t.method {
	case msrp.MethodSEND:
		// SEND responses are hop-by-hop and end here.
		if m.StatusCode != 200 {
			t.fail(m.StatusCode, m.Comment)
		}
	default:
		// Responses to other methods travel back along the path. Every
		// leading URI of ours comes off the To-Path and goes onto the
		// From-Path: two when both ends are clients of this relay.
		to := strings.Fields(m.Header(msrp.HeaderToPath))
		from := m.Header(msrp.HeaderFromPath)
		for len(to) >= 2 && p.srv.isOurURI(to[0]) {
			from = to[0] + " " + from
			to = to[1:]
		}
		if len(to) == len(strings.Fields(m.Header(msrp.HeaderToPath))) {
			p.srv.log.Debugf("%s: response %d to %s has no path back through us, discarded", p.addr, m.StatusCode, m.TransactionID)
			return
		}
		back := m.Clone()
		back.TransactionID = t.srcTID
		back.SetHeader(msrp.HeaderToPath, strings.Join(to, " "))
		back.SetHeader(msrp.HeaderFromPath, from)
		p.hold(t.src) // on p's reader goroutine
		if err := t.src.send(back); err != nil {
			p.srv.log.Debugf("%s: response for %s discarded, previous hop gone: %v", p.addr, t.srcTID, err)
		}
	}
}

func (p *peer) pendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// failPending fails every transaction still waiting on this connection.
func (p *peer) failPending(comment string) {
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.stopSweep()
	p.mu.Unlock()
	for _, t := range pending {
		t.fail(408, comment)
	}
}
