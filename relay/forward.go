package relay

import (
	"errors"
	"fmt"
	"strings"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// maxTIDRetries bounds the search for a transaction id whose end-line is
// not in the body; with 80 random bits one try practically always does.
const maxTIDRetries = 4

// forward sends one piece of the chunk to the route's next hop and
// reports whether it went out. When the next hop fails, the chunk ends
// here (abort) and the sender is answered with a code when it is in.
func (in *inbound) forward(body []byte, off int64, last bool, flag byte) bool {
	r := in.dec.route
	err := in.send(r, body, off, last, flag)
	if err == nil {
		in.forwarded = true
		return true
	}
	code, comment := 481, "next hop failed"
	if r.dest.outbound {
		// As cleanup says it: a next hop we dialled that never answered
		// must look like one that could not be dialled (outbound policy).
		code, comment = 408, "next hop connection lost"
		if !r.dest.heard.Load() {
			comment = "next hop unreachable"
		}
	}
	// A closed next hop cannot take the abort chunk; any other failure
	// (an end-line in the body we could not avoid) leaves it usable.
	var ce *transport.CloseError
	hopAlive := !errors.As(err, &ce) && !errors.Is(err, errPeerClosed)
	in.abort(code, comment, fmt.Errorf("%s: %w", r.dest.addr, err), hopAlive)
	return false
}

// send writes one piece of the chunk to r's next hop as a chunk of its
// own: a new transaction id (ids must not collide on the outgoing
// connection), the rewritten paths, and a Byte-Range that says exactly
// which bytes it holds. A piece that carries data (or a bodiless request)
// is tracked for its response; the empty '#' chunk of an abort is not,
// since the sender is answered for the whole chunk anyway. send only
// reports a failure: ending the chunk is the caller's business.
func (in *inbound) send(r *route, body []byte, off int64, last bool, flag byte) error {
	m := in.msg
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

	var t *txn
	if flag != msrp.FlagAbort || len(body) > 0 {
		t = in.newTxn(r, brValue)
	}
	var err error
	for try := 0; try < maxTIDRetries; try++ {
		nm.TransactionID = msrp.NewTransactionID()
		if t != nil {
			t.tid = nm.TransactionID
			if !r.dest.track(t) {
				return errPeerClosed
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
		return err
	}
	if t != nil {
		r.dest.armTimer(t)
	}
	tl := in.p.counts()
	tl.chunksOut++
	tl.bytesOut += uint64(len(body))
	if s := r.dst; s != nil {
		s.st.chunksOut.Add(1)
		s.st.bytesOut.Add(uint64(len(body)))
	}
	return nil
}

// newTxn prepares the transaction record of a forwarded piece, or returns
// nil when no response will come back: REPORTs are never answered and
// SENDs with Failure-Report "no" neither.
func (in *inbound) newTxn(r *route, byteRange string) *txn {
	m := in.msg
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
