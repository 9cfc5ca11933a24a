package transport

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
)

// rawPeer accepts one TCP connection and reads what arrives.
func rawPeer(t *testing.T) (addr string, conns <-chan net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			ch <- c
		}
	}()
	return l.Addr().String(), ch
}

// dialRawPeer dials a TCP Conn to a raw peer and returns both ends.
func dialRawPeer(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	addr, conns := rawPeer(t)
	c, err := testDial(context.Background(), "tcp://"+addr, Config{Keepalive: keepalive.Config{Interval: -1}}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ReasonLocal, "test over") })
	peer := <-conns
	t.Cleanup(func() { peer.Close() })
	return c, peer
}

func holdTestChunk(i int) *msrp.Message {
	return &msrp.Message{TransactionID: "tid" + strings.Repeat("x", i+1), Method: "SEND",
		Headers: []msrp.Header{{Name: "To-Path", Value: "msrp://a.example:1/s;tcp"}, {Name: "From-Path", Value: "msrp://b.example:2/t;tcp"}}}
}

func TestHoldQueuesUntilRelease(t *testing.T) {
	c, peer := dialRawPeer(t)
	r := msrp.NewReader(bufio.NewReader(peer), 0)

	if !c.Hold() {
		t.Fatal("a TCP connection refused to be held")
	}
	for i := 0; i < 3; i++ {
		if err := c.Send(holdTestChunk(i)); err != nil {
			t.Fatal(err)
		}
	}
	peer.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if m, err := r.ReadMessage(0); err == nil {
		t.Fatalf("chunk %s arrived while the connection was held", m.TransactionID)
	}
	// A timed-out read leaves the Reader unusable: read afresh.
	peer.SetReadDeadline(time.Time{})
	r = msrp.NewReader(bufio.NewReader(peer), 0)
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, err := r.ReadMessage(0)
		if err != nil {
			t.Fatalf("chunk %d after Release: %v", i, err)
		}
		if want := holdTestChunk(i).TransactionID; m.TransactionID != want {
			t.Fatalf("chunk %d is %s, want %s: order lost", i, m.TransactionID, want)
		}
	}
	// Not held any more: a chunk goes out at once.
	if err := c.Send(holdTestChunk(5)); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if m, err := r.ReadMessage(0); err != nil || m.TransactionID != holdTestChunk(5).TransactionID {
		t.Fatalf("unheld chunk: %v %v", m, err)
	}
}

func TestHoldWritesThroughPastTheLimit(t *testing.T) {
	c, peer := dialRawPeer(t)
	c.Hold()
	defer c.Release()
	big := holdTestChunk(0)
	big.Headers = append(big.Headers, msrp.Header{Name: "Content-Type", Value: "text/plain"})
	big.Body = []byte(strings.Repeat("a", holdLimit/2))
	for i := 0; i < 3; i++ { // 1.5 times the limit
		if err := c.Send(big); err != nil {
			t.Fatal(err)
		}
	}
	r := msrp.NewReader(peer, 0)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadMessage(0); err != nil {
		t.Fatalf("nothing written although the queue passed %d bytes: %v", holdLimit, err)
	}
}

func TestBeforeReadRunsBeforeWaiting(t *testing.T) {
	c, peer := dialRawPeer(t)
	var calls atomic.Int32
	c.SetBeforeRead(func() { calls.Add(1) })
	done := make(chan error, 1)
	go func() {
		_, err := c.Read()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if calls.Load() == 0 {
		t.Fatal("the reader waits for input without calling its BeforeRead hook")
	}
	b, _ := holdTestChunk(0).AppendTo(nil)
	peer.Write(b)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
