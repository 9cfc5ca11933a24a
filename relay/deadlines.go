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
