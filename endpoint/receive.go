package endpoint

import (
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// receiver turns incoming request chunks of one connection into messages.
// It belongs to the connection's reader goroutine.
type receiver struct {
	e    *Endpoint
	c    *transport.Conn
	msgs map[string]*assembly // multi-chunk messages being assembled
	cur  *chunkState          // the chunk whose pieces are arriving
	held bool                 // c is held until the reader next waits (readLoop)
}

// chunkState follows one incoming chunk.
type chunkState struct {
	msg  *msrp.Message
	asm  *assembly // nil: the chunk's body is ignored
	base int64     // offset of the chunk within the message
	n    int64     // body bytes seen so far
	code int       // non-zero: answer this instead of 200
}

func newReceiver(e *Endpoint, c *transport.Conn) *receiver {
	return &receiver{e: e, c: c, msgs: map[string]*assembly{}}
}

// frame takes one piece of an incoming request chunk.
func (r *receiver) frame(f transport.Frame) {
	m := f.Msg
	if r.cur == nil || r.cur.msg != m {
		r.cur = r.begin(m)
	}
	cs := r.cur
	cs.n = max(cs.n, f.Offset+int64(len(m.Body)))
	if cs.asm != nil && len(m.Body) > 0 {
		if err := cs.asm.write(cs.base+f.Offset, m.Body); err != nil {
			r.e.log.Warnf("message %s: %v", cs.asm.id, err)
			cs.code = 413
			r.drop(cs.asm)
			cs.asm = nil
		}
	}
	if f.Last {
		r.cur = nil
		r.finish(cs, m.Flag)
	}
}

// begin looks at a new chunk's headers and decides where its body goes.
func (r *receiver) begin(m *msrp.Message) *chunkState {
	cs := &chunkState{msg: m}
	if m.Method != msrp.MethodSEND || m.Body == nil {
		return cs
	}
	br, ok, err := m.ByteRange()
	if err != nil {
		cs.code = 400
		return cs
	}
	if !ok {
		br = msrp.ByteRange{Start: 1, End: msrp.Unknown, Total: msrp.Unknown}
	}
	if br.Total > r.e.cfg.MaxMessage || br.Start-1 > r.e.cfg.MaxMessage {
		cs.code = 413
		return cs
	}
	cs.base = br.Start - 1
	id := m.MessageID()
	whole := br.Start == 1 && br.Total >= 0 && br.End == br.Total
	if a := r.msgs[id]; a != nil && !whole {
		cs.asm = a
		return cs
	}
	a, err := newAssembly(r.e, m, id, br.Total)
	if err != nil {
		r.e.log.Warnf("message %s: %v", id, err)
		cs.code = 413
		return cs
	}
	if !whole {
		r.msgs[id] = a
	}
	cs.asm = a
	return cs
}

// finish answers a chunk whose last piece arrived and delivers the message
// when it is complete.
func (r *receiver) finish(cs *chunkState, flag byte) {
	m := cs.msg
	fr := m.FailureReport()
	switch m.Method {
	case msrp.MethodSEND:
	case msrp.MethodREPORT:
		r.e.handleReport(m)
		return
	default:
		// We are no relay: AUTH and unknown methods are refused (end to end).
		r.respond(m, 501, "")
		return
	}
	if cs.code != 0 {
		if fr != "no" {
			r.respond(m, cs.code, "")
		}
		return
	}
	if fr == "yes" {
		r.respond(m, 200, "OK")
	}
	a := cs.asm
	if a == nil {
		return // bodiless SEND: a keepalive, answered and done
	}
	if flag == msrp.FlagAbort {
		r.drop(a)
		return
	}
	if flag == msrp.FlagComplete {
		a.lastEnd = cs.base + cs.n
	}
	if !a.complete() {
		return
	}
	delete(r.msgs, a.id)
	msg, err := a.message()
	if err != nil {
		r.e.log.Warnf("message %s: %v", a.id, err)
		if fr != "no" {
			r.sendReport(m.Header(msrp.HeaderFromPath), a.id, a.size(), 413, "Message Too Large")
		}
		return
	}
	if a.successReport {
		r.sendReport(a.fromPath, a.id, msg.Size, 200, "OK")
	}
	r.deliver(msg)
}

// deliver hands a complete message to the application.
func (r *receiver) deliver(msg *Message) {
	if r.e.cfg.OnMessage != nil {
		r.e.cfg.OnMessage(msg)
		return
	}
	// The application may take its time to empty the inbox; what is held
	// (the 200 for this message among it) must not wait for that.
	r.release()
	select {
	case r.e.inbox <- msg:
	case <-r.e.closing:
	}
}

// drop forgets a message being assembled.
func (r *receiver) drop(a *assembly) {
	delete(r.msgs, a.id)
	a.discard()
}

// discardAll drops every partial message when the connection ends.
func (r *receiver) discardAll() {
	for _, a := range r.msgs {
		a.discard()
	}
	clear(r.msgs)
}
