package endpoint

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/dnstest"
	"github.com/msrpd/msrpd/internal/relaytest"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/srv"
)

// With several relays, an endpoint whose relay goes away AUTHs at once
// with the next (a new Use-Path, reported as an event) and chats again.
func TestReconnectToNextRelay(t *testing.T) {
	checkGoroutines(t)
	for _, kind := range []string{"ws", "tcp"} {
		t.Run(kind, func(t *testing.T) {
			r1, r2 := newTestRelay(t, "", "", nil), newTestRelay(t, "", "", nil)
			events := make(chan Event, 16)
			a := dial(t, r1.URL(kind), "alice", func(c *Config) {
				c.Relays = []string{r2.URL(kind)}
				c.ReconnectAttempts = 3
				c.BackoffInitial = time.Hour // the next relay is tried at once
				c.OnEvent = func(ev Event) { events <- ev }
			})
			<-events // connected
			old := a.UsePath()
			r1.Stop()
			waitEvent(t, events, EventDisconnected)
			ev := waitEvent(t, events, EventReconnected)
			if ev.UsePath == old || !strings.Contains(ev.UsePath, r2.TCPAddr) || a.Transport() != kind {
				t.Errorf("reconnected with Use-Path %s (was %s), want one of %s over %s", ev.UsePath, old, r2.TCPAddr, kind)
			}
			b := dial(t, r2.URL(kind), "bob", nil)
			if err := b.Send(context.Background(), b.PathTo(a.Path()), "text/plain", []byte("on r2")); err != nil {
				t.Fatal(err)
			}
			if m := next(t, a, 5*time.Second); string(m.Body) != "on r2" {
				t.Errorf("got %q", m.Body)
			}
		})
	}
}

// A relay given as msrp://DOMAIN;tcp is found through SRV records: the
// first target is down, so Dial takes the second; the AUTH goes to the
// domain's URI, whose realm is the domain. When that relay goes, the
// endpoint comes back through the SRV records to another.
func TestRelaysThroughSRV(t *testing.T) {
	checkGoroutines(t)
	d := dnstest.Start(t)
	creds := relay.NewMemoryCredentials()
	creds.Add("alice", "farm.test", alicePass)
	creds.Add("bob", "farm.test", bobPass)
	farm := func(c *relay.Config) {
		c.Credentials = creds
		c.Domains = []relay.Domain{{Name: "farm.test"}}
		c.Outbound = relay.OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}
	}
	r1, r2 := newTestRelay(t, "", "", farm), newTestRelay(t, "", "", farm)
	l, _ := net.Listen("tcp", "127.0.0.1:0") // a relay that is down
	down := l.Addr().(*net.TCPAddr).Port
	l.Close()
	port := func(r *relaytest.Relay) string { _, p, _ := net.SplitHostPort(r.TCPAddr); return p }
	d.Add("_msrp._tcp.farm.test. 60 IN SRV 10 0 "+strconv.Itoa(down)+" down.farm.test.",
		"_msrp._tcp.farm.test. 60 IN SRV 20 0 "+port(r1)+" r1.farm.test.",
		"_msrp._tcp.farm.test. 60 IN SRV 30 0 "+port(r2)+" r2.farm.test.",
		"down.farm.test. 60 IN A 127.0.0.1", "r1.farm.test. 60 IN A 127.0.0.1", "r2.farm.test. 60 IN A 127.0.0.1")
	res := srv.New(srv.Config{Server: d.Addr})
	events := make(chan Event, 16)
	a := dial(t, "msrp://farm.test;tcp", "alice", func(c *Config) {
		c.Resolver = res
		c.ReconnectAttempts = 3
		c.BackoffInitial = time.Hour
		c.OnEvent = func(ev Event) { events <- ev }
	})
	<-events
	if !strings.Contains(a.UsePath(), r1.TCPAddr) {
		t.Fatalf("Use-Path %s, want r1 (%s): the first SRV target that answers", a.UsePath(), r1.TCPAddr)
	}
	b := dial(t, r2.TCP, "bob", func(c *Config) { c.RelayURI = "msrp://farm.test;tcp" })
	if err := b.Send(context.Background(), b.PathTo(a.Path()), "text/plain", []byte("r2 to r1")); err != nil {
		t.Fatal(err)
	}
	if m := next(t, a, 5*time.Second); string(m.Body) != "r2 to r1" {
		t.Errorf("got %q", m.Body)
	}
	r1.Stop()
	waitEvent(t, events, EventDisconnected)
	if ev := waitEvent(t, events, EventReconnected); !strings.Contains(ev.UsePath, r2.TCPAddr) {
		t.Fatalf("reconnected to %s, want r2 %s", ev.UsePath, r2.TCPAddr)
	}
	if err := a.Send(context.Background(), a.PathTo(b.Path()), "text/plain", []byte("now both on r2")); err != nil {
		t.Fatal(err)
	}
	if m := next(t, b, 5*time.Second); string(m.Body) != "now both on r2" {
		t.Errorf("got %q", m.Body)
	}
}
