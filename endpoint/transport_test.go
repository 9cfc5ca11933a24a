package endpoint

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
)

// schedulerTickers counts the goroutines running a keepalive Scheduler's
// ticker; one runs for each Scheduler that has connections to probe.
func schedulerTickers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "keepalive.(*Scheduler).run(")
}

// Endpoints given one transport Host (Config.Transport, as msrpcat bench
// does for its many endpoints) dial through it: one keepalive Scheduler
// probes all their connections, it counts them all, and closing one
// endpoint leaves the Host to the others.
func TestSharedTransport(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)                  // its keepalive is off: no ticker of its own
	ka := keepalive.Config{Interval: 10 * time.Second} // on, but no probe within the test
	host, err := NewTransport(Config{Keepalive: ka})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	share := func(c *Config) { c.Transport = host }
	a := dial(t, r.TCP, "alice", share)
	b := dial(t, r.WS, "bob", share)
	c := dial(t, r.TCP, "alice", share)
	if open := host.Stats().Open; open[transport.KindTCP] != 2 || open[transport.KindWS] != 1 {
		t.Errorf("the shared Host has %v open, want 2 tcp and 1 ws", open)
	}
	time.Sleep(20 * time.Millisecond) // a second ticker, if any, has started by now
	if n := schedulerTickers(); n != 1 {
		t.Errorf("%d keepalive Schedulers for three endpoints sharing a Host, want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Send(ctx, a.PathTo(b.Path()), "text/plain", []byte("still here")); err != nil {
		t.Fatalf("send after another endpoint of the Host closed: %v", err)
	}
	if m := next(t, b, 5*time.Second); string(m.Body) != "still here" {
		t.Errorf("got %q", m.Body)
	}
	if st := host.Stats(); st.Open[transport.KindTCP] != 1 || st.Closed[transport.ReasonLocal] != 1 {
		t.Errorf("after one endpoint closed: %v open, %v closed", st.Open, st.Closed)
	}
}
