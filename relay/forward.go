package relay

import (
	"errors"
	"strings"

	"github.com/msrpd/msrpd/msrp"
)

// maxTIDRetries bounds the search for a transaction id whose end-line is
// not in the body; with 80 random bits one try practically always does.
const maxTIDRetries = 4

// send forwards one piece of the chunk to the route's next hop as a chunk
// of its own: a new transaction id (ids must not collide on the outgoing
// connection), the rewritten paths, and a Byte-Range that says exactly
// which bytes it holds. It reports false when the next hop failed; the
// chunk is then refused with a code for the sender.
func (in *inbound) send(body []byte, off int64, last bool, flag byte) bool {
	m, r := in.msg, in.dec.route
	nm := &msrp.Message{Method: m.Method, Headers: make([]msrp.Header, 0, len(m.Headers)+1), Body: body, Flag: flag}
	brValue := ""
	if body != nil {
		br := msrp.ByteRange{Start: in.br.Start + off, End: in.br.Start + off + int64(len(body)) - 1, Total: in.br.Total}
		brValue = br.String()
	} else if v, ok := m.Lookup(msrp.HeaderByteRange); ok {
		brValue = v
	}
	whole := off == 0 && last && flag == m.Flag
	for _, h := range m.Headers {
		switch {
		case strings.EqualFold(h.Name, msrp.HeaderToPath):
			h.Value = r.to
		case strings.EqualFold(h.Name, msrp.HeaderFromPath):
			h.Value = r.from
		case strings.EqualFold(h.Name, msrp.HeaderByteRange):
			h.Value = brValue
		}
		nm.Headers = append(nm.Headers, h)
	}
	if !in.hasBR && !whole {
		// A chunk split by us needs a Byte-Range even if it had none.
		nm.Headers = append(nm.Headers, msrp.Header{Name: msrp.HeaderByteRange, Value: brValue})
	}
	if body == nil && brValue == "" {
		brValue = "1-0/0"
	}

	t := in.newTxn(brValue)
	var err error
	for try := 0; try < maxTIDRetries; try++ {
		nm.TransactionID = msrp.NewTransactionID()
		if t != nil {
			t.tid = nm.TransactionID
			if !r.dest.track(t) {
				err = errPeerClosed
				break
			}
		}
		in.p.hold(r.dest)
		if err = r.dest.send(nm); !errors.Is(err, msrp.ErrEndLineInBody) {
			break
		}
		if t != nil {
			r.dest.untrack(t.tid)
		}
	}
	if err != nil {
		if t != nil {
			r.dest.untrack(t.tid)
		}
		code := 481
		if r.dest.outbound {
			code = 408
		}
		in.p.srv.log.Infof("%s: %s %s: next hop %s failed: %v", in.p.addr, m.Method, m.TransactionID, r.dest.addr, err)
		in.abort(code, "next hop failed")
		return false
	}
	in.forwarded = true
	if t != nil {
		r.dest.armTimer(t)
	}
	return true
}

// newTxn prepares the transaction record of a forwarded piece, or returns
// nil when no response will come back: REPORTs are never answered and
// SENDs with Failure-Report "no" neither.
func (in *inbound) newTxn(byteRange string) *txn {
	m, r := in.msg, in.dec.route
	fr := ""
	switch m.Method {
	case msrp.MethodREPORT:
		return nil
	case msrp.MethodSEND:
		if fr = m.FailureReport(); fr == "no" {
			return nil
		}
	}
	return &txn{
		dest:      r.dest,
		src:       in.p,
		srcTID:    m.TransactionID,
		method:    m.Method,
		fr:        fr,
		msgID:     m.MessageID(),
		byteRange: byteRange,
		backTo:    r.backTo,
		backFrom:  r.backFrom,
	}
}
