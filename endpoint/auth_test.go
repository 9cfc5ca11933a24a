package endpoint

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/relay"
)

func TestAuth(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	for _, tc := range []struct {
		name, kind, transport string
		invalidHost           bool
	}{
		{"ws", "ws", "ws", true},
		{"tcp", "tcp", "tcp", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var events []Event
			e := dial(t, r.URL(tc.kind), "alice", func(c *Config) {
				c.OnEvent = func(ev Event) { events = append(events, ev) }
			})
			up, err := msrp.ParsePath(e.UsePath())
			if err != nil || len(up) != 1 || up[0].SessionID == "" {
				t.Fatalf("UsePath %q: %v", e.UsePath(), err)
			}
			own, err := msrp.ParseURI(e.URI())
			if err != nil {
				t.Fatalf("URI %q: %v", e.URI(), err)
			}
			if own.Transport != tc.transport || strings.HasSuffix(own.Host, ".invalid") != tc.invalidHost || own.Port == 0 {
				t.Errorf("own URI %s: want transport %s, .invalid host %v, a port", own, tc.transport, tc.invalidHost)
			}
			if want := e.UsePath() + " " + e.URI(); e.Path() != want {
				t.Errorf("Path() = %q, want %q", e.Path(), want)
			}
			if len(events) != 1 || events[0].Kind != EventConnected || events[0].UsePath != e.UsePath() {
				t.Errorf("events %+v, want one connected", events)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"wrong password", Config{Relay: r.TCP, User: "alice", Password: "nope"}, ErrAuth},
		{"unknown user", Config{Relay: r.WS, User: "mallory", Password: "x"}, ErrAuth},
		{"no relay", Config{}, ErrBadConfig},
		{"bad scheme", Config{Relay: "http://127.0.0.1:1/"}, ErrBadConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			tc.cfg.LoggerFactory = loggerFactory(&syncBuffer{})
			e, err := Dial(ctx, tc.cfg)
			if err == nil {
				e.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Dial: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestAuth423 asks for an Expires below the relay's minimum and expects
// the retry with Min-Expires to succeed; then one above the maximum.
func TestAuth423(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", func(c *relay.Config) {
		c.MinExpires, c.Expires, c.MaxExpires = 2*time.Minute, 5*time.Minute, 10*time.Minute
	})
	for _, tc := range []struct {
		name string
		ask  time.Duration
		want time.Duration
	}{
		{"below min", 10 * time.Second, 2 * time.Minute},
		{"above max", time.Hour, 10 * time.Minute},
		{"within", 3 * time.Minute, 3 * time.Minute},
		{"none", 0, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := dial(t, r.TCP, "bob", func(c *Config) { c.Expires = tc.ask })
			e.mu.Lock()
			got := e.sess.expires
			e.mu.Unlock()
			if got != tc.want {
				t.Errorf("expires %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAuthRefresh lets a short Expires run out and checks the session is
// refreshed in place, so the peer's path stays valid.
func TestAuthRefresh(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", func(c *relay.Config) {
		c.MinExpires, c.Expires = time.Second, 2*time.Second
	})
	refreshed := make(chan Event, 4)
	e := dial(t, r.WS, "alice", func(c *Config) {
		c.OnEvent = func(ev Event) {
			if ev.Kind == EventRefreshed {
				refreshed <- ev
			}
		}
	})
	before := e.UsePath()
	for i := 0; i < 2; i++ {
		select {
		case ev := <-refreshed:
			if ev.UsePath != before {
				t.Errorf("refresh %d: Use-Path %s, want unchanged %s", i, ev.UsePath, before)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no refresh %d", i)
		}
	}
	b := dial(t, r.TCP, "bob", nil)
	if err := b.Send(context.Background(), b.PathTo(e.Path()), "text/plain", []byte("still there")); err != nil {
		t.Fatalf("send after refreshes: %v", err)
	}
	if m := next(t, e, 5*time.Second); string(m.Body) != "still there" {
		t.Errorf("got %q", m.Body)
	}
}
