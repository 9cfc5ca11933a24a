package relay

import (
	"errors"
	"strconv"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// inbound follows one request chunk while its pieces arrive.
type inbound struct {
	p   *peer
	msg *msrp.Message
	dec decision
	br  msrp.ByteRange // of the chunk as it arrived (Start 1, Total unknown when absent)
	// hasBR tells whether the chunk carried a Byte-Range.
	hasBR bool
	// seen counts body bytes so far.
	seen int64
	// forwarded is true once a piece went to the next hop.
	forwarded bool
	// aborted is set by abort: the chunk ended early, exactly once.
	aborted bool
	// held gathers a non-SEND body, which is forwarded whole.
	held []byte
	// t0 is the clock of the burst the chunk began in (forwarded chunks
	// only), where its forwarding latency starts: nanoseconds since
	// epoch, which takes a third of a time.Time's room.
	t0 int64
}

// handleFrame is called by the read loop for every frame.
func (p *peer) handleFrame(f transport.Frame) {
	m := f.Msg
	if f.Err != nil {
		code, reason := 400, f.Err.Error()
		var pe *msrp.ParseError
		if errors.As(f.Err, &pe) {
			if pe.Code != 0 {
				code = pe.Code
			}
			reason = pe.Reason
		}
		p.srv.log.Warnf("%s: bad chunk: %s", p.addr, reason)
		if in := p.cur; in != nil && in.msg == m {
			// Pieces of this chunk may be out already: abort them at the
			// next hop, then answer the sender.
			p.cur = nil
			in.abort(code, reason, nil, true)
			in.finish()
			p.busy.Store(false)
			return
		}
		p.cur = nil
		if m != nil && m.IsRequest() {
			p.respond(m, code, reason)
		}
		return
	}
	if !m.IsRequest() {
		if f.Last {
			p.srv.trace("in", p, m)
			t := p.counts()
			t.respIn[classIndex(m.StatusCode)]++
			p.handleResponse(m)
		}
		return
	}
	if p.cur == nil || p.cur.msg != m {
		p.srv.trace("in", p, m)
		p.busy.Store(true)
		p.cur = p.begin(m)
	}
	in := p.cur
	in.piece(f.Msg.Body, f.Last, m.Flag)
	if f.Last {
		p.cur = nil
		in.finish()
		p.busy.Store(false)
	}
}

func (p *peer) begin(m *msrp.Message) *inbound {
	in := &inbound{p: p, msg: m, br: msrp.ByteRange{Start: 1, End: msrp.Unknown, Total: msrp.Unknown}}
	if br, ok, err := m.ByteRange(); ok && err == nil {
		in.br, in.hasBR = br, true
	}
	t := p.counts()
	t.requests[methodIndex(m.Method)]++
	if p.srv.shutting.Load() && m.Method != msrp.MethodREPORT {
		// Shutdown waits for chunks in flight; new ones are refused
		// explicitly. REPORTs still pass: they end transactions.
		in.dec = refuse(481, "relay shutting down")
		return in
	}
	in.dec = p.decide(m)
	if in.dec.route != nil {
		in.t0 = sinceEpoch(p.clock())
	}
	return in
}

// piece takes the next body piece of the chunk.
func (in *inbound) piece(body []byte, last bool, flag byte) {
	cfg := &in.p.srv.cfg
	off := in.seen
	in.seen += int64(len(body))
	if in.dec.code != 0 || in.dec.dropped {
		return
	}
	// Limits come first, also for requests the relay answers itself.
	switch {
	case in.seen > int64(cfg.MaxChunk):
		in.abort(413, "chunk exceeds "+strconv.Itoa(cfg.MaxChunk)+" bytes", nil, true)
		return
	case in.msg.Method != msrp.MethodSEND && in.seen > maxNonSendBody:
		in.abort(413, "non-SEND body exceeds 10240 bytes", nil, true)
		return
	case in.dec.route == nil:
		return // handled here once the chunk is in
	case in.msg.Method != msrp.MethodSEND && !last:
		// Non-SEND bodies are not interruptible (RFC 4975 section 7.1):
		// gather them (at most 10240 bytes) and forward them whole.
		in.hold(body)
		return
	}
	if in.msg.Body == nil {
		in.forward(nil, 0, true, flag) // bodiless request
		return
	}
	if in.msg.Method != msrp.MethodSEND {
		// The whole non-SEND body goes in one chunk, whatever its size.
		if in.held != nil {
			body = append(in.held, body...)
		}
		in.forward(body, 0, true, flag)
		return
	}
	// Re-chunk: no forwarded chunk is larger than ForwardChunk, so
	// responses and other sessions interleave between pieces.
	for len(body) > cfg.ForwardChunk {
		if !in.forward(body[:cfg.ForwardChunk], off, false, msrp.FlagMore) {
			return
		}
		body, off = body[cfg.ForwardChunk:], off+int64(cfg.ForwardChunk)
	}
	if len(body) > 0 || last {
		if !last {
			flag = msrp.FlagMore
		}
		in.forward(body, off, last, flag)
	}
}

// hold keeps a piece of a non-SEND body until the chunk is complete.
func (in *inbound) hold(body []byte) {
	in.held = append(in.held, body...)
}

// abort ends the chunk early, exactly once: nothing more of it is
// forwarded, and the sender learns code from the response at the end.
// Pieces already forwarded are closed with a '#' chunk so the receiver
// does not wait for the rest, when the next hop can still take one
// (hopAlive). The '#' chunk's own failure is only logged: the chunk has
// ended already, and a failure while ending it must not end it again.
// cause, when set, is logged but not told to the sender.
func (in *inbound) abort(code int, comment string, cause error, hopAlive bool) {
	if in.aborted {
		return
	}
	in.aborted = true
	r := in.dec.route
	in.dec = refuse(code, comment)
	why := comment
	if cause != nil {
		why += ": " + cause.Error()
	}
	in.p.srv.log.Infof("%s: %s %s aborted after %d body bytes: %s", in.p.addr, in.msg.Method, in.msg.TransactionID, in.seen, why)
	if in.forwarded && r != nil && hopAlive {
		if err := in.send(r, []byte{}, in.seen, true, msrp.FlagAbort); err != nil {
			in.p.srv.log.Debugf("%s: abort chunk for %s to %s not sent: %v", in.p.addr, in.msg.TransactionID, r.dest.addr, err)
		}
	}
}

// finish runs once the whole chunk is in: local handling, the response to
// the previous hop, or the refusal.
func (in *inbound) finish() {
	m, p := in.msg, in.p
	switch {
	case in.dec.dropped:
	case in.dec.local != nil:
		in.dec.local(m)
	case in.dec.code != 0:
		p.srv.log.Debugf("%s: %s %s refused: %d %s", p.addr, m.Method, m.TransactionID, in.dec.code, in.dec.comment)
		p.respond(m, in.dec.code, in.dec.comment)
	default:
		p.succeeded()
		in.count()
		if m.Method == msrp.MethodSEND {
			// RFC 4976 section 6.4.1: 200 to the previous hop at once;
			// delivery problems come later as failure REPORTs.
			p.respond(m, 200, "")
		}
	}
}

// count counts a chunk forwarded whole: for the relay (its tally) and
// for the sessions it went through. Its pieces counted as they left.
func (in *inbound) count() {
	p, r := in.p, in.dec.route
	t := p.counts()
	t.chunksIn++
	t.bytesIn += uint64(in.seen)
	if !p.now.IsZero() && in.t0 == sinceEpoch(p.now) {
		t.forwarded++ // measured when the burst's writes are out
	} else {
		// Begun in an earlier burst: a large chunk, or one that waited.
		p.srv.stats.latency.observe(time.Duration(sinceEpoch(time.Now())-in.t0), 1)
	}
	message := in.msg.Method == msrp.MethodSEND && in.msg.Flag == msrp.FlagComplete
	now := p.clock()
	if s := r.src; s != nil {
		s.st.chunksIn.Add(1)
		s.st.bytesIn.Add(uint64(in.seen))
		if message {
			s.st.messagesIn.Add(1)
		}
		s.active(now)
	}
	if s := r.dst; s != nil {
		if message {
			s.st.messagesOut.Add(1)
		}
		s.active(now)
	}
}
