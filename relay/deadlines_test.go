package relay

import (
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
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

// relayPeerOf finds the relay's peer for the connection of client c.
func relayPeerOf(t *testing.T, r *testRelay, c *client) *peer {
	t.Helper()
	addr := c.conn.LocalAddr().String()
	for _, p := range r.srv.snapshot() {
		if p.addr == addr {
			return p
		}
	}
	t.Fatalf("relay has no connection from %s", addr)
	return nil
}

// queued returns the lengths of p's deadline queue and pending map.
func queued(p *peer) (deadlines, pending int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deadlines.len(), len(p.pending)
}

// waitPending waits until p has n transactions pending.
func waitPending(t *testing.T, p *peer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, got := queued(p)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// expectNothing fails if c receives a message within d.
func expectNothing(t *testing.T, c *client, d time.Duration) {
	t.Helper()
	select {
	case m := <-c.msgs:
		t.Fatalf("got %s %d %q, want nothing", m.Method, m.StatusCode, m.Header("Status"))
	case <-time.After(d):
	}
}

func TestSweepExpiresOnlyUnanswered(t *testing.T) {
	checkGoroutines(t)
	const timeout = 100 * time.Millisecond
	r := newTestRelay(t, func(c *Config) { c.TransactionTimeout = timeout })
	a, b := authedPair(t, r)
	start := time.Now()
	lost := a.sendText(pathTo(a, b), []byte("unanswered"))
	a.sendText(pathTo(a, b), []byte("answered"))
	b.next(5 * time.Second)
	b.send(b.next(5*time.Second).Response(200, "OK"))
	for i := 0; i < 2; i++ {
		if m := a.next(5 * time.Second); m.StatusCode != 200 {
			t.Fatalf("got %s %d, want the relay's 200", m.Method, m.StatusCode)
		}
	}
	rep := a.next(5 * time.Second)
	elapsed := time.Since(start)
	if st, _ := rep.Status(); rep.Method != "REPORT" || st.Code != 408 || rep.MessageID() != lost.MessageID() {
		t.Fatalf("got %s %q for %q, want REPORT 408 for %q", rep.Method, rep.Header("Status"), rep.MessageID(), lost.MessageID())
	}
	if elapsed < timeout || elapsed > timeout+3*time.Second {
		t.Errorf("REPORT after %v, timeout is %v", elapsed, timeout)
	}
	// The answered one never expires, and the lost one ends only once.
	expectNothing(t, a, 3*timeout)
	if d, p := queued(relayPeerOf(t, r, b)); d != 0 || p != 0 {
		t.Errorf("after the sweep: %d deadlines, %d pending; want none", d, p)
	}
}

// exchangeBatch is how many SENDs exchange has in flight at a time.
const exchangeBatch = 50

// exchange has a send n SENDs to b in batches, which b answers in order;
// it returns the REPORTs a got meanwhile.
func exchange(t *testing.T, a, b *client, n int) (reports []*msrp.Message) {
	t.Helper()
	const batch = exchangeBatch
	for sent := 0; sent < n; {
		k := min(batch, n-sent)
		for i := 0; i < k; i++ {
			a.sendText(pathTo(a, b), []byte("x"))
		}
		for i := 0; i < k; i++ {
			b.send(b.next(5*time.Second).Response(200, "OK"))
		}
		for oks := 0; oks < k; {
			m := a.next(5 * time.Second)
			switch {
			case m.StatusCode == 200:
				oks++
			case m.Method == "REPORT":
				reports = append(reports, m)
			default:
				t.Fatalf("a got %s %d", m.Method, m.StatusCode)
			}
		}
		sent += k
	}
	return reports
}

func TestSweepQueueShortWhenAnsweredInOrder(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.TransactionTimeout = 5 * time.Second })
	a, b := authedPair(t, r)
	pb := relayPeerOf(t, r, b)
	if reports := exchange(t, a, b, 2000); len(reports) != 0 {
		t.Fatalf("%d REPORTs for answered SENDs", len(reports))
	}
	waitPending(t, pb, 0)
	if d, _ := queued(pb); d != 0 {
		t.Errorf("%d deadlines queued after 2000 SENDs answered in order, want 0", d)
	}
}

func TestSweepQueueBoundedBehindUnansweredHead(t *testing.T) {
	checkGoroutines(t)
	const timeout = 3 * time.Second
	r := newTestRelay(t, func(c *Config) { c.TransactionTimeout = timeout })
	a, b := authedPair(t, r)
	pb := relayPeerOf(t, r, b)
	lost := a.sendText(pathTo(a, b), []byte("unanswered"))
	b.next(5 * time.Second)
	if m := a.next(5 * time.Second); m.StatusCode != 200 {
		t.Fatalf("got %s %d, want the relay's 200", m.Method, m.StatusCode)
	}
	// Every answer now leaves an entry behind the pending head, which
	// keeps them from being dropped until it expires. Compaction bounds
	// them by what was in flight, not by how many were answered.
	reports := exchange(t, a, b, 2000)
	if len(reports) == 0 {
		waitPending(t, pb, 1)
		if d, _ := queued(pb); d > 2*(exchangeBatch+1)+deadlineSlack {
			t.Errorf("%d deadlines queued after 2000 answered behind a pending head, want at most %d",
				d, 2*(exchangeBatch+1)+deadlineSlack)
		}
		reports = append(reports, a.next(timeout+3*time.Second))
	} else {
		t.Logf("the head expired during the exchange; the queue bound went unchecked")
	}
	rep := reports[0]
	if st, _ := rep.Status(); len(reports) != 1 || rep.Method != "REPORT" || st.Code != 408 || rep.MessageID() != lost.MessageID() {
		t.Fatalf("got %d messages, first %s %q for %q; want one REPORT 408 for %q",
			len(reports), rep.Method, rep.Header("Status"), rep.MessageID(), lost.MessageID())
	}
	expectNothing(t, a, 200*time.Millisecond)
	if d, p := queued(pb); d != 0 || p != 0 {
		t.Errorf("after the sweep: %d deadlines, %d pending; want none", d, p)
	}
}

func TestSweepStopsWhenNextHopCloses(t *testing.T) {
	checkGoroutines(t)
	const timeout = 200 * time.Millisecond
	r := newTestRelay(t, func(c *Config) { c.TransactionTimeout = timeout })
	a, b := authedPair(t, r)
	pb := relayPeerOf(t, r, b)
	lost := a.sendText(pathTo(a, b), []byte("in flight"))
	b.next(5 * time.Second)
	if m := a.next(5 * time.Second); m.StatusCode != 200 {
		t.Fatalf("got %s %d, want the relay's 200", m.Method, m.StatusCode)
	}
	b.conn.Close(0, "vanish")
	rep := a.next(5 * time.Second)
	if st, _ := rep.Status(); rep.Method != "REPORT" || st.Code != 408 || rep.MessageID() != lost.MessageID() ||
		!strings.Contains(rep.Header("Status"), "connection lost") {
		t.Fatalf("got %s %q, want REPORT 408 for the lost connection", rep.Method, rep.Header("Status"))
	}
	pb.mu.Lock()
	d, armed := pb.deadlines.len(), pb.sweepArmed
	pb.mu.Unlock()
	if d != 0 || armed {
		t.Errorf("closed connection: %d deadlines, sweep armed %v; want none, false", d, armed)
	}
	// The transaction ended with its connection, not again by its timer.
	expectNothing(t, a, 2*timeout)
}
