package relay

import "time"

// A connection's forwarded transactions all share one timeout
// (Config.TransactionTimeout), so in the order their timers start their
// deadlines never decrease. One timer per connection, set for the
// earliest deadline, therefore serves them all: a forwarded chunk costs
// an append to a queue instead of a timer of its own, and a busy
// connection wakes up about once per timeout instead of once per chunk.

// deadlineSlack is how many entries of ended transactions a queue may hold
// beyond twice the number of pending ones before it is compacted.
const deadlineSlack = 64

// maxIdleDeadlines is the largest backing array an empty queue keeps, so
// that a burst does not pin its memory for the life of the connection.
const maxIdleDeadlines = 1024

// deadline is an armed transaction and the time its response is due.
type deadline struct {
	t  *txn
	at time.Time
}

// deadlineQueue is a FIFO of deadlines: a slice whose popped front is
// reused when the slice would otherwise grow. Entries may belong to
// transactions that already ended (answered, or failed with their
// connection); the owner drops those lazily. Not safe for concurrent use.
type deadlineQueue struct {
	buf  []deadline
	head int // buf[head:] is the queue; buf[:head] is popped and zeroed
}

func (q *deadlineQueue) len() int { return len(q.buf) - q.head }

// front returns the oldest entry; the queue must not be empty.
func (q *deadlineQueue) front() deadline { return q.buf[q.head] }

func (q *deadlineQueue) push(d deadline) {
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		// Move the queue to the front rather than grow the array.
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, d)
}

// pop removes the oldest entry; the queue must not be empty.
func (q *deadlineQueue) pop() {
	q.buf[q.head] = deadline{} // let the txn go
	q.head++
	if q.head == len(q.buf) {
		if cap(q.buf) > maxIdleDeadlines {
			q.buf = nil
		}
		q.buf, q.head = q.buf[:0], 0
	}
}

// keepIf drops, in place and keeping the order, every entry whose
// transaction keep rejects.
func (q *deadlineQueue) keepIf(keep func(*txn) bool) {
	n := 0
	for _, d := range q.buf[q.head:] {
		if keep(d.t) {
			q.buf[n] = d
			n++
		}
	}
	clear(q.buf[n:])
	q.buf, q.head = q.buf[:n], 0
}

func (q *deadlineQueue) reset() { q.buf, q.head = nil, 0 }

// armTimer starts the transaction timer once the last byte was written
// (RFC 4976 section 6.4.1): t joins the connection's deadline queue, and
// the connection's sweep timer is set if it is not running yet.
func (p *peer) armTimer(t *txn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending[t.tid] != t {
		return // already answered
	}
	// Responses that come out of order leave entries of ended
	// transactions behind a pending head, and a head that is never
	// answered keeps them for a whole timeout. Compacting when they
	// outnumber the pending ones bounds the queue by the pending map at
	// an amortised cost of one map lookup per response.
	if p.deadlines.len() >= 2*len(p.pending)+deadlineSlack {
		p.deadlines.keepIf(p.isPending)
	}
	// The clock is read under p.mu so that deadlines enter the queue in
	// order even when several readers forward over this connection.
	p.deadlines.push(deadline{t: t, at: time.Now().Add(p.srv.cfg.TransactionTimeout)})
	if !p.sweepArmed {
		p.armSweep(p.deadlines.front().at)
	}
}

// isPending reports whether t still waits for its response. p.mu held.
func (p *peer) isPending(t *txn) bool { return p.pending[t.tid] == t }

// armSweep sets the sweep timer to fire at at, creating it on first use
// so that connections that never forward carry no timer. p.mu held.
func (p *peer) armSweep(at time.Time) {
	if p.sweep == nil {
		p.sweep = time.AfterFunc(time.Until(at), p.sweepExpired)
	} else {
		p.sweep.Reset(time.Until(at))
	}
	p.sweepArmed = true
}

// stopSweep stops the sweep timer and forgets every deadline; for when
// the pending transactions end all at once. p.mu held.
func (p *peer) stopSweep() {
	if p.sweep != nil {
		p.sweep.Stop()
	}
	p.sweepArmed = false
	p.deadlines.reset()
}

// dropEnded pops the entries at the head of the queue whose transaction
// already ended, so that when responses come in order (the common case)
// the queue holds little more than the transactions in flight. The sweep
// timer is left running even when the queue empties: stopping and
// resetting it for every chunk would cost the timer-heap work this queue
// exists to avoid, and a sweep over an empty queue is cheap. p.mu held.
func (p *peer) dropEnded() {
	for p.deadlines.len() > 0 && !p.isPending(p.deadlines.front().t) {
		p.deadlines.pop()
	}
}

// sweepExpired is the sweep timer's function: it ends every pending
// transaction whose deadline passed, sets the timer for the next one, and
// then reports the expired ones outside the lock, since that sends on
// other connections and may block.
func (p *peer) sweepExpired() {
	var expired []*txn
	p.mu.Lock()
	p.sweepArmed = false
	now := time.Now()
	for p.deadlines.len() > 0 {
		d := p.deadlines.front()
		if !p.isPending(d.t) {
			p.deadlines.pop()
			continue
		}
		if d.at.After(now) {
			p.armSweep(d.at)
			break
		}
		p.deadlines.pop()
		delete(p.pending, d.t.tid) // ends it here, and only here
		expired = append(expired, d.t)
	}
	p.mu.Unlock()
	if len(expired) > 0 {
		p.srv.stats.timeouts.Add(uint64(len(expired)))
	}
	failed := 0
	for _, t := range expired {
		if t.expire() {
			failed++
		}
	}
	if failed > 0 {
		// One line per sweep, not per transaction: a silent next hop
		// lets a whole window of chunks expire at once.
		p.srv.log.Infof("%s: %d forwarded requests got no response within %v; senders told with 408",
			p.addr, failed, p.srv.cfg.TransactionTimeout)
	}
}
