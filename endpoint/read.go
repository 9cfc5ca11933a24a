package endpoint

import (
	"errors"
	"strconv"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// readLoop reads connection c until it fails: responses complete our
// transactions, requests go to the receiver. It returns the read error.
// first, if set, is a frame already read from c (by a Listener).
func (e *Endpoint) readLoop(c *transport.Conn, first *transport.Frame) error {
	rx := newReceiver(e, c)
	defer rx.discardAll()
	defer rx.release()
	// What the endpoint sends while this reader works through a burst of
	// chunks (its 200s, and SENDs from other goroutines) is held and goes
	// out in one write just before the reader waits for the network again:
	// a system call per 200 was a third of a busy receiver's CPU.
	c.SetBeforeRead(rx.release)
	for {
		var f transport.Frame
		if first != nil {
			f, first = *first, nil
		} else {
			var err error
			if f, err = c.Read(); err != nil {
				return err
			}
		}
		if !rx.held {
			rx.held = c.Hold()
		}
		m := f.Msg
		if f.Offset == 0 && m != nil {
			e.trace("in", c, m)
		}
		if f.Err != nil {
			rx.cur = nil
			code := 400
			var pe *msrp.ParseError
			if errors.As(f.Err, &pe) && pe.Code != 0 {
				code = pe.Code
			}
			e.log.Warnf("bad chunk from %s: %v", c.RemoteAddr(), f.Err)
			if m != nil && m.IsRequest() && m.Method == msrp.MethodSEND {
				rx.respond(m, code, "")
			}
			continue
		}
		if !m.IsRequest() {
			if f.Last {
				e.handleResponse(m)
			}
			continue
		}
		e.markBound()
		rx.frame(f)
	}
}

// release writes what was held on the receiver's connection.
func (r *receiver) release() {
	if r.held {
		r.held = false
		if err := r.c.Release(); err != nil {
			r.e.log.Debugf("held chunks to %s: %v", r.c.RemoteAddr(), err)
		}
	}
}

// respond answers request m on the receiver's connection. A SEND is
// answered hop by hop (RFC 4975 section 7.2).
func (r *receiver) respond(m *msrp.Message, code int, comment string) {
	if comment == "" {
		comment = msrp.StatusText(code)
	}
	if err := r.e.send(r.c, m.Response(code, comment)); err != nil {
		r.e.log.Debugf("response %d to %s %s: %v", code, m.Method, m.TransactionID, err)
	}
}

// sendReport sends a REPORT for message id back along fromPath (the
// SEND's From-Path): end-to-end, never answered (RFC 4975 section 7.1.2).
func (r *receiver) sendReport(fromPath, id string, total int64, code int, comment string) {
	r.e.mu.Lock()
	own := r.e.sess.uri
	r.e.mu.Unlock()
	t := strconv.FormatInt(total, 10)
	rep := &msrp.Message{
		TransactionID: msrp.NewTransactionID(),
		Method:        msrp.MethodREPORT,
		Headers: []msrp.Header{
			{Name: msrp.HeaderToPath, Value: fromPath},
			{Name: msrp.HeaderFromPath, Value: own},
			{Name: msrp.HeaderMessageID, Value: id},
			{Name: msrp.HeaderByteRange, Value: "1-" + t + "/" + t},
			{Name: msrp.HeaderStatus, Value: "000 " + strconv.Itoa(code) + " " + comment},
		},
		Flag: msrp.FlagComplete,
	}
	if err := r.e.send(r.c, rep); err != nil {
		r.e.log.Debugf("REPORT %d for %s: %v", code, id, err)
	}
}

// handleReport applies a REPORT about one of our messages: a success
// REPORT completes a message that asked for one, a failure REPORT fails
// it. REPORTs about unknown messages are ignored (RFC 4975 section 7.1.2).
func (e *Endpoint) handleReport(m *msrp.Message) {
	st, err := m.Status()
	if err != nil {
		e.log.Warnf("REPORT %s with bad Status %q", m.TransactionID, m.Header(msrp.HeaderStatus))
		return
	}
	id := m.MessageID()
	e.mu.Lock()
	o := e.outs[id]
	var fin func()
	switch {
	case o == nil:
	case st.Code == 200:
		if o.wantReport {
			o.gotReport = true
			fin = o.checkLocked(e)
		}
	default:
		fin = o.failLocked(e, &StatusError{Code: st.Code, Comment: st.Comment, Report: true, MessageID: id})
	}
	again := false
	if o == nil && st.Code != 200 {
		// A relay reports each forwarded piece of a message on its own:
		// a message fails once, and is told once.
		again = e.failed.has(id)
		e.failed.add(id)
	}
	e.mu.Unlock()
	if again {
		e.log.Debugf("failure REPORT %d for message %s, which failed already", st.Code, id)
		return
	}
	if o == nil && st.Code != 200 {
		e.log.Infof("failure REPORT %d for message %s after it completed", st.Code, id)
		e.emit(Event{Kind: EventFailureReport, Err: &StatusError{Code: st.Code, Comment: st.Comment, Report: true, MessageID: id}})
	}
	if fin != nil {
		fin()
	}
}
