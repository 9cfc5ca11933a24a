package endpoint

import (
	"context"
	"fmt"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// txn is one request of ours awaiting its response.
type txn struct {
	deadline time.Time
	out      *outMsg            // a SEND chunk of this message, or nil
	reply    chan *msrp.Message // for other requests (buffered, 1)
	conn     *transport.Conn
}

// addTxnLocked registers tid; e.mu must be held.
func (e *Endpoint) addTxnLocked(tid string, t *txn) { e.txns[tid] = t }

// handleResponse completes the transaction a response answers. Responses
// to unknown transactions (late, or to requests that want none) are
// dropped.
func (e *Endpoint) handleResponse(m *msrp.Message) {
	e.mu.Lock()
	t, ok := e.txns[m.TransactionID]
	if !ok {
		e.mu.Unlock()
		e.log.Debugf("response %d to unknown transaction %s dropped", m.StatusCode, m.TransactionID)
		return
	}
	delete(e.txns, m.TransactionID)
	var finish func()
	if t.out != nil {
		<-e.window
		if m.StatusCode == 200 {
			finish = t.out.ackLocked(e)
		} else {
			finish = t.out.failLocked(e, &StatusError{Code: m.StatusCode, Comment: m.Comment, MessageID: t.out.id})
		}
	}
	if t.reply != nil {
		// Under e.mu (the channel has room for it): once roundTrip has
		// deleted its txn, no response is still on its way to it.
		t.reply <- m
	}
	e.mu.Unlock()
	if finish != nil {
		finish()
	}
}

// txnRoundTrip sends req on c and waits for its response through the
// read loop, for requests made while it runs (AUTH refresh).
func (e *Endpoint) txnRoundTrip(c *transport.Conn, req *msrp.Message) (*msrp.Message, error) {
	return e.roundTrip(context.Background(), c, req)
}

// deadlineOf is when a transaction started now under ctx gives up: after
// d, or at ctx's deadline if that is sooner.
func deadlineOf(ctx context.Context, d time.Duration) time.Time {
	t := time.Now().Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
		return dl
	}
	return t
}

// failAllLocked fails every transaction and message in flight, for a lost
// connection or Close. It returns the completions to run after unlocking.
func (e *Endpoint) failAllLocked(err error) func() {
	var fins []func()
	for tid, t := range e.txns {
		delete(e.txns, tid)
		if t.out != nil {
			<-e.window
		}
		if t.reply != nil {
			t.reply <- nil
		}
	}
	for _, o := range e.outs {
		if f := o.failLocked(e, err); f != nil {
			fins = append(fins, f)
		}
	}
	return func() {
		for _, f := range fins {
			f()
		}
	}
}

// sweepEvery is how often timeouts are checked, relative to the shortest
// timeout.
const sweepDivisor = 4

// sweep fails transactions without a response in ChunkTimeout and
// messages whose success REPORT did not come in ReportTimeout. One
// goroutine per Endpoint, waking a few times per timeout.
func (e *Endpoint) sweep() {
	defer e.wg.Done()
	tick := time.NewTicker(max(min(e.cfg.ChunkTimeout, e.cfg.ReportTimeout)/sweepDivisor, 5*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-e.done:
			return
		case now := <-tick.C:
			e.expire(now)
		}
	}
}

func (e *Endpoint) expire(now time.Time) {
	var fins []func()
	e.mu.Lock()
	for tid, t := range e.txns {
		if now.Before(t.deadline) {
			continue
		}
		delete(e.txns, tid)
		if t.reply != nil {
			t.reply <- nil
		}
		if t.out != nil {
			<-e.window
			err := fmt.Errorf("%w: no response to SEND %s of message %s within %v", ErrTimeout, tid, t.out.id, e.cfg.ChunkTimeout)
			if f := t.out.failLocked(e, err); f != nil {
				fins = append(fins, f)
			}
		}
	}
	for _, o := range e.outs {
		if !o.reportDeadline.IsZero() && !now.Before(o.reportDeadline) {
			err := fmt.Errorf("%w: no success REPORT for message %s within %v", ErrTimeout, o.id, e.cfg.ReportTimeout)
			if f := o.failLocked(e, err); f != nil {
				fins = append(fins, f)
			}
		}
	}
	e.mu.Unlock()
	for _, f := range fins {
		f()
	}
}
