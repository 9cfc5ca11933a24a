package relay

import (
	"strings"
	"testing"
	"time"
)

func TestDeadlineQueue(t *testing.T) {
	var q deadlineQueue
	txns := make([]*txn, 10)
	for i := range txns {
		txns[i] = &txn{tid: string(rune('a' + i))}
	}
	base := time.Now()
	for i, tx := range txns[:4] {
		q.push(deadline{t: tx, at: base.Add(time.Duration(i))})
	}
	q.pop()
	q.pop()
	if q.len() != 2 || q.front().t != txns[2] {
		t.Fatalf("after 4 pushes and 2 pops: len %d, front %q; want 2, %q", q.len(), q.front().t.tid, "c")
	}
	if q.buf[0].t != nil || q.buf[1].t != nil {
		t.Error("popped entries still hold their txn")
	}

	// Once the array is full, a push reuses the popped front.
	for len(q.buf) < cap(q.buf) {
		q.push(deadline{t: txns[4]})
	}
	c := cap(q.buf)
	q.push(deadline{t: txns[5]})
	if cap(q.buf) != c || q.head != 0 || q.front().t != txns[2] {
		t.Errorf("push into a full array with a popped front: cap %d -> %d, head %d, front %q", c, cap(q.buf), q.head, q.front().t.tid)
	}

	// keepIf keeps the order of what it keeps.
	q.reset()
	for _, tx := range txns {
		q.push(deadline{t: tx})
	}
	q.pop()
	q.keepIf(func(tx *txn) bool { return tx.tid != "c" && tx.tid != "f" })
	var got []string
	for q.len() > 0 {
		got = append(got, q.front().t.tid)
		q.pop()
	}
	if s := strings.Join(got, ""); s != "bdeghij" {
		t.Errorf("after keepIf: %q, want %q", s, "bdeghij")
	}

	// An emptied queue lets go of a large array.
	for i := 0; i <= maxIdleDeadlines; i++ {
		q.push(deadline{t: txns[0]})
	}
	for q.len() > 0 {
		q.pop()
	}
	if q.buf != nil {
		t.Errorf("empty queue keeps an array of %d", cap(q.buf))
	}
}
