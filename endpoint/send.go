package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// outMsg is one outgoing message until its last 200 (and success REPORT,
// when asked for) or its failure. Its fields are guarded by Endpoint.mu.
type outMsg struct {
	id             string
	pending        int  // chunks not yet answered 200 (or not yet sent)
	wantReport     bool // Success-Report: yes
	gotReport      bool
	reportDeadline time.Time
	done           func(error)
	finished       bool
}

// ackLocked counts a 200 and returns the completion to run, if any.
func (o *outMsg) ackLocked(e *Endpoint) func() {
	o.pending--
	return o.checkLocked(e)
}

func (o *outMsg) checkLocked(e *Endpoint) func() {
	if o.finished || o.pending > 0 {
		return nil
	}
	if o.wantReport && !o.gotReport {
		if o.reportDeadline.IsZero() {
			o.reportDeadline = time.Now().Add(e.cfg.ReportTimeout)
		}
		return nil
	}
	return o.finishLocked(e, nil)
}

// failLocked ends the message with err (the first outcome wins).
func (o *outMsg) failLocked(e *Endpoint, err error) func() {
	if o.finished {
		return nil
	}
	return o.finishLocked(e, err)
}

func (o *outMsg) finishLocked(e *Endpoint, err error) func() {
	o.finished = true
	if e.outs[o.id] == o {
		delete(e.outs, o.id)
	}
	if err != nil {
		e.failed.add(o.id)
	}
	done := o.done
	return func() { done(err) }
}

// Send sends body as one message to the To-Path to (our Use-Path, then the
// peer's path; see PathTo) and waits until every chunk got its 200.
func (e *Endpoint) Send(ctx context.Context, to, contentType string, body []byte) error {
	return e.SendWith(ctx, to, contentType, body, SendOptions{})
}

// SendWith is Send with options: a success REPORT to wait for, the
// Failure-Report value, a Message-ID, extra headers, progress.
func (e *Endpoint) SendWith(ctx context.Context, to, contentType string, body []byte, opts SendOptions) error {
	ch := make(chan error, 1)
	e.SendAsync(ctx, to, contentType, body, opts, func(err error) { ch <- err })
	return <-ch
}

// SendAsync sends body as one message, chunked at Config.ChunkSize, each
// chunk taking a slot of the window of outstanding SENDs (it blocks while
// the window is full, until ctx ends). It returns once every chunk is
// written; done is then called exactly once, possibly before SendAsync
// returns, from another goroutine: with nil when every chunk got its 200
// (and the success REPORT came, if asked for), else with the failure (a
// *StatusError for a non-200 or a failure REPORT, ErrTimeout, ...). body
// must not change until done is called. done must not block.
func (e *Endpoint) SendAsync(ctx context.Context, to, contentType string, body []byte, opts SendOptions, done func(error)) {
	e.sendChunks(ctx, to, contentType, int64(len(body)), func(off, end int64) ([]byte, error) {
		return body[off:end:end], nil
	}, opts, done)
}

// SendReader is SendAsync for a body of size bytes read from r, one chunk
// at a time into one buffer of Config.ChunkSize: a file of any size is
// sent with that much memory. A read error (or r ending early) aborts the
// message (its last chunk goes out with the '#' flag) and fails it.
func (e *Endpoint) SendReader(ctx context.Context, to, contentType string, r io.Reader, size int64, opts SendOptions, done func(error)) {
	buf := make([]byte, e.cfg.ChunkSize)
	e.sendChunks(ctx, to, contentType, size, func(off, end int64) ([]byte, error) {
		n, err := io.ReadFull(r, buf[:end-off])
		if err != nil {
			return buf[:n], fmt.Errorf("endpoint: read body at byte %d of %d: %w", off+int64(n), size, err)
		}
		return buf[:n], nil
	}, opts, done)
}

// sendChunks sends a message of size bytes whose chunk [off, end) chunk
// returns; the chunk's bytes are not used after the chunk is written.
func (e *Endpoint) sendChunks(ctx context.Context, to, contentType string, size int64, chunk func(off, end int64) ([]byte, error), opts SendOptions, done func(error)) {
	c, s, err := e.current()
	if err != nil {
		done(fmt.Errorf("endpoint: send: %w", err))
		return
	}
	if contentType == "" {
		contentType = "text/plain"
	}
	id := opts.MessageID
	if id == "" {
		id = msrp.NewMessageID()
	}
	fr := strings.ToLower(opts.FailureReport)
	wantResp := fr == "" || fr == "yes"
	cs := int64(e.cfg.ChunkSize)
	n := max(1, int((size+cs-1)/cs))
	o := &outMsg{id: id, pending: n, wantReport: opts.SuccessReport, done: done}
	e.mu.Lock()
	e.outs[id] = o
	e.mu.Unlock()
	total := strconv.FormatInt(size, 10)
	for i, off := 0, int64(0); i < n; i++ {
		end := min(off+cs, size)
		body, rerr := chunk(off, end)
		m := &msrp.Message{
			TransactionID: msrp.NewTransactionID(),
			Method:        msrp.MethodSEND,
			Headers:       make([]msrp.Header, 0, 7+len(opts.Headers)),
			Body:          body,
			Flag:          msrp.FlagMore,
		}
		switch {
		case rerr != nil:
			m.Flag = msrp.FlagAbort
			end = off + int64(len(body))
		case end == size:
			m.Flag = msrp.FlagComplete
		}
		m.Headers = append(m.Headers,
			msrp.Header{Name: msrp.HeaderToPath, Value: to},
			msrp.Header{Name: msrp.HeaderFromPath, Value: s.uri},
			msrp.Header{Name: msrp.HeaderMessageID, Value: id},
			msrp.Header{Name: msrp.HeaderByteRange, Value: strconv.FormatInt(off+1, 10) + "-" + strconv.FormatInt(end, 10) + "/" + total})
		if opts.SuccessReport {
			m.Headers = append(m.Headers, msrp.Header{Name: msrp.HeaderSuccessReport, Value: "yes"})
		}
		if fr != "" {
			m.Headers = append(m.Headers, msrp.Header{Name: msrp.HeaderFailureReport, Value: fr})
		}
		m.Headers = append(m.Headers, opts.Headers...)
		m.Headers = append(m.Headers, msrp.Header{Name: msrp.HeaderContentType, Value: contentType})
		err := e.sendChunk(ctx, c, m, o, wantResp && rerr == nil)
		if err == nil {
			err = rerr
		}
		if err != nil {
			e.mu.Lock()
			fin := o.failLocked(e, err)
			e.mu.Unlock()
			if fin != nil {
				fin()
			}
			return
		}
		if opts.Progress != nil {
			opts.Progress(end, size)
		}
		off = end
	}
}

// sendChunk takes a window slot (when a response is awaited), registers
// the transaction and writes the chunk. The slot belongs to sendChunk
// until the transaction is registered, then to whoever removes it.
func (e *Endpoint) sendChunk(ctx context.Context, c *transport.Conn, m *msrp.Message, o *outMsg, wantResp bool) error {
	own := false
	if wantResp {
		select {
		case e.window <- struct{}{}:
			own = true
		case <-ctx.Done():
			return fmt.Errorf("endpoint: send message %s: %w", o.id, ctx.Err())
		case <-e.closing:
			return fmt.Errorf("endpoint: send message %s: %w", o.id, ErrClosed)
		}
	}
	for tries := 0; ; tries++ {
		e.mu.Lock()
		if o.finished || (wantResp && !own) {
			// Failed meanwhile (connection lost, failure REPORT).
			if own {
				<-e.window
			}
			e.mu.Unlock()
			return nil
		}
		if wantResp {
			e.addTxnLocked(m.TransactionID, &txn{deadline: time.Now().Add(e.cfg.ChunkTimeout), out: o})
			own = false
		}
		e.mu.Unlock()
		err := e.send(c, m)
		if err == nil {
			break
		}
		e.mu.Lock()
		if _, ok := e.txns[m.TransactionID]; ok {
			delete(e.txns, m.TransactionID)
			own = true
		}
		e.mu.Unlock()
		if errors.Is(err, msrp.ErrEndLineInBody) && tries < 3 {
			// The body holds this transaction's end-line: pick another id.
			m.TransactionID = msrp.NewTransactionID()
			continue
		}
		if own {
			<-e.window
		}
		return fmt.Errorf("endpoint: send message %s: %w", o.id, err)
	}
	if !wantResp {
		e.mu.Lock()
		fin := o.ackLocked(e)
		e.mu.Unlock()
		if fin != nil {
			fin()
		}
	}
	return nil
}
