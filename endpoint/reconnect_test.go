package endpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
)

// TestReconnect closes the relay under a connected endpoint, restarts it
// on the same ports and expects a reconnect with backoff, a new Use-Path
// reported as an event, and working sends afterwards.
func TestReconnect(t *testing.T) {
	checkGoroutines(t)
	for _, kind := range []string{"ws", "tcp"} {
		t.Run(kind, func(t *testing.T) {
			r := newTestRelay(t, "", "", nil)
			events := make(chan Event, 16)
			a := dial(t, r.URL(kind), "alice", func(c *Config) {
				c.ReconnectAttempts = 10
				c.BackoffInitial, c.BackoffMax = 50*time.Millisecond, 200*time.Millisecond
				c.OnEvent = func(ev Event) { events <- ev }
			})
			<-events // connected
			old := a.UsePath()
			host := a.tr
			r.Stop()
			waitEvent(t, events, EventDisconnected)
			if err := a.Send(context.Background(), old, "text/plain", []byte("x")); !errors.Is(err, ErrNotConnected) {
				t.Errorf("send while disconnected: %v, want ErrNotConnected", err)
			}
			time.Sleep(300 * time.Millisecond) // a few failed attempts
			r2 := newTestRelay(t, r.TCPAddr, r.WSAddr, nil)
			ev := waitEvent(t, events, EventReconnected)
			if ev.UsePath == old || ev.UsePath != a.UsePath() || ev.Attempt < 2 {
				t.Errorf("reconnected: Use-Path %s (old %s, now %s), attempt %d", ev.UsePath, old, a.UsePath(), ev.Attempt)
			}
			// One transport Host across reconnects: it saw the lost
			// connection close and dialled the new one.
			st := a.tr.Stats()
			k := map[string]transport.Kind{"ws": transport.KindWS, "tcp": transport.KindTCP}[kind]
			if a.tr != host || st.Open[k] != 1 || st.Closed[transport.ReasonPeerClosed] != 1 {
				t.Errorf("after the reconnect the transport Host has %v open, %v closed; want the new connection open and the lost one closed",
					st.Open, st.Closed)
			}
			b := dial(t, r2.URL(kind), "bob", nil)
			if err := b.Send(context.Background(), b.PathTo(a.Path()), "text/plain", []byte("welcome back")); err != nil {
				t.Fatalf("send to reconnected endpoint: %v", err)
			}
			if m := next(t, a, 5*time.Second); string(m.Body) != "welcome back" {
				t.Errorf("got %q", m.Body)
			}
		})
	}
}

func TestReconnectGivesUp(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	a := dial(t, r.TCP, "alice", func(c *Config) {
		c.ReconnectAttempts = 2
		c.BackoffInitial = 10 * time.Millisecond
	})
	r.Stop()
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("endpoint still running after its attempts")
	}
	if !errors.Is(a.Err(), ErrConnectionLost) {
		t.Errorf("Err() = %v, want ErrConnectionLost", a.Err())
	}
	if _, ok := <-a.Messages(); ok {
		t.Error("Messages not closed")
	}
}

// TestKeepalive probes an idle connection with bodiless SENDs (what a
// browser must do) or Ping frames and expects the relay to answer them.
func TestKeepalive(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	for _, tc := range []struct {
		kind   string
		mode   keepalive.Mode
		frames bool // probes are Ping frames
	}{
		{"ws", keepalive.ModeSend, false},
		{"tcp", keepalive.ModeSend, false},
		{"ws", keepalive.ModeFrames, true},
		{"tcp", keepalive.ModeFrames, false}, // TCP has no frames
	} {
		t.Run(tc.kind+"-"+string(tc.mode), func(t *testing.T) {
			a := dial(t, r.URL(tc.kind), "alice", func(c *Config) {
				c.Keepalive = keepalive.Config{Interval: 30 * time.Millisecond, Timeout: 500 * time.Millisecond, Mode: tc.mode}
			})
			deadline := time.Now().Add(5 * time.Second)
			for a.Stats().Answers < 3 {
				if time.Now().After(deadline) {
					t.Fatalf("stats %+v: want 3 answered probes", a.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}
			st := a.Stats()
			probes, other := st.ProbesSend, st.ProbesFrames
			if tc.frames {
				probes, other = other, probes
			}
			if probes < 3 || other != 0 || st.Misses != 0 || !a.Connected() {
				t.Errorf("stats %+v, connected %v", st, a.Connected())
			}
		})
	}
}

func waitEvent(t *testing.T, events <-chan Event, kind EventKind) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v event", kind)
		}
	}
}
