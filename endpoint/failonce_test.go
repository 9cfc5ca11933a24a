package endpoint

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/faultproxy"
	"github.com/msrpd/msrpd/relay"
)

// TestFailureReportedOncePerMessage: a relay that forwards a big chunk in
// pieces sends a failure REPORT for each piece its receiver never
// answered. The sender learns of the message's failure once: one event,
// one log line, whatever the number of REPORTs.
func TestFailureReportedOncePerMessage(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", func(c *relay.Config) { c.ForwardChunk = 4 << 10 })
	px, err := faultproxy.New(r.TCPAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	var failures atomic.Int32
	a := dial(t, r.TCP, "alice", func(c *Config) {
		c.ChunkSize = 256 << 10
		c.OnEvent = func(ev Event) {
			if ev.Kind == EventFailureReport {
				failures.Add(1)
			}
		}
	})
	b := dial(t, "tcp://"+px.Addr(), "bob", func(c *Config) { c.RelayURI = "msrp://" + r.TCPAddr + ";tcp" })
	px.Blackhole(faultproxy.Down) // bob never sees, so never answers, the pieces
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body := []byte(strings.Repeat("x", 256<<10))
	if err := a.Send(ctx, a.PathTo(b.Path()), "application/octet-stream", body); err != nil {
		t.Fatalf("send: %v (the relay answers 200 once the chunk is in)", err)
	}
	px.Cut() // bob's connection dies with 64 pieces unanswered
	deadline := time.Now().Add(5 * time.Second)
	for failures.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the other pieces' REPORTs
	if n := failures.Load(); n != 1 {
		t.Fatalf("%d failure events for one message, want 1", n)
	}
}
