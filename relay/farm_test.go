package relay

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/internal/dnstest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/srv"
	"github.com/msrpd/msrpd/transport"
)

// msrpResponder is an MSRP endpoint that listens on 127.0.0.1 and answers
// every SEND 200, keeping what it got.
type msrpResponder struct {
	port int
	mu   sync.Mutex
	got  []*msrp.Message
	n    atomic.Int64 // connections accepted
}

// responders is the transport of the tests' plain MSRP responders.
var responders = func() *transport.Host {
	h, err := transport.New(transport.Config{Keepalive: keepalive.Config{Interval: -1}})
	if err != nil {
		panic(err)
	}
	return h
}()

func newResponder(t *testing.T) *msrpResponder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &msrpResponder{port: l.Addr().(*net.TCPAddr).Port}
	done := make(chan struct{})
	go func() {
		defer close(done)
		responders.ServeStream(l, func(c *transport.Conn) {
			r.n.Add(1)
			for {
				f, err := c.Read()
				if err != nil {
					return
				}
				if f.Last && f.Err == nil && f.Msg.IsRequest() && f.Msg.Method == msrp.MethodSEND {
					r.mu.Lock()
					r.got = append(r.got, f.Msg)
					r.mu.Unlock()
					c.Send(f.Msg.Response(200, "OK"))
				}
			}
		})
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return r
}

func (r *msrpResponder) received() []*msrp.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*msrp.Message(nil), r.got...)
}

// closedPort returns a port on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}

// A next hop without a port is found through its domain's SRV records:
// the first target (priority 10) is down, so the relay fails over to the
// second, and keeps that connection for the next request. The DNS answer
// is kept for its TTL.
func TestNextHopWithoutPortFoundThroughSRV(t *testing.T) {
	checkGoroutines(t)
	d := dnstest.Start(t)
	peer := newResponder(t)
	d.Add("_msrp._tcp.peer.test. 60 IN SRV 10 0 "+strconv.Itoa(closedPort(t))+" down.peer.test.",
		"_msrp._tcp.peer.test. 60 IN SRV 20 0 "+strconv.Itoa(peer.port)+" up.peer.test.",
		"down.peer.test. 60 IN A 127.0.0.1",
		"up.peer.test. 60 IN A 127.0.0.1")
	r := newTestRelay(t, func(c *Config) {
		c.Outbound = OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true, Resolver: srv.New(srv.Config{Server: d.Addr})}
	})
	a := dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)
	for i := 0; i < 3; i++ {
		if resp := sendTo(t, a, "msrp://peer.test/s1;tcp"); resp.StatusCode != 200 {
			t.Fatalf("send %d: %d %s", i, resp.StatusCode, resp.Comment)
		}
	}
	// The relay's 200 is hop by hop: the SENDs may still be on their way.
	got := peer.received()
	for deadline := time.Now().Add(5 * time.Second); len(got) < 3 && time.Now().Before(deadline); got = peer.received() {
		time.Sleep(5 * time.Millisecond)
	}
	if len(got) != 3 || got[0].Header("To-Path") != "msrp://peer.test/s1;tcp" {
		t.Fatalf("the SRV target got %d SENDs (%v), want 3 to msrp://peer.test/s1;tcp", len(got), got)
	}
	if n := peer.n.Load(); n != 1 {
		t.Errorf("%d connections to the target, want 1 (reused)", n)
	}
	if n := d.Queries("_msrp._tcp.peer.test", 33); n != 1 {
		t.Errorf("SRV asked %d times, want 1 (cached for its TTL)", n)
	}
}

// Every address of every SRV target goes through the outbound policy: a
// domain whose targets are all refused is a 403, and nothing is dialled.
func TestNextHopSRVTargetsRefusedByPolicy(t *testing.T) {
	checkGoroutines(t)
	d := dnstest.Start(t)
	peer := newResponder(t)
	d.Add("_msrp._tcp.inside.test. 60 IN SRV 10 0 "+strconv.Itoa(peer.port)+" meta.inside.test.",
		"_msrp._tcp.inside.test. 60 IN SRV 20 0 "+strconv.Itoa(peer.port)+" lo.inside.test.",
		"meta.inside.test. 60 IN A 169.254.169.254",
		"lo.inside.test. 60 IN A 127.0.0.1")
	rec := newDialRecorder(t)
	r := newTestRelay(t, func(c *Config) {
		c.Outbound = OutboundPolicy{Plain: true, Resolver: srv.New(srv.Config{Server: d.Addr})}
		c.Transport.DialContext = rec.dial
	})
	a := dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)
	if resp := sendTo(t, a, "msrp://inside.test/s1;tcp"); resp.StatusCode != 403 {
		t.Fatalf("got %d %s, want 403", resp.StatusCode, resp.Comment)
	}
	if tried := rec.tried(); len(tried) != 0 || peer.n.Load() != 0 {
		t.Errorf("the relay dialled %v (%d connections) for refused targets", tried, peer.n.Load())
	}
	if !strings.Contains(r.logBuf.String(), "link-local address") {
		t.Errorf("log does not name the refusing rule:\n%s", r.logBuf.String())
	}
}

// With Config.Domains the realm of an AUTH is the domain its To-Path
// names, and the session's URI names that domain's host; users are
// looked up in that realm. An AUTH to the relay's own address stays in
// the default realm.
func TestDomainsRealmAndUsePathHost(t *testing.T) {
	checkGoroutines(t)
	creds := NewMemoryCredentials()
	creds.Add("carol", "one.test", "pw-one")
	creds.Add("carol", "two.test", "pw-two")
	creds.Add(relayUser, relayRealm, relayPass)
	r := newTestRelay(t, func(c *Config) {
		c.Credentials = creds
		c.Domains = []Domain{{Name: "one.test", Host: "relay.one.test"}, {Name: "two.test"}}
	})
	port := strings.TrimPrefix(r.tcp[strings.LastIndexByte(r.tcp, ':'):], ":")
	for _, tc := range []struct {
		via, user, pass, realm, host string
	}{
		{"msrp://one.test;tcp", "carol", "pw-one", "one.test", "relay.one.test"},
		{"msrp://relay.one.test:" + port + ";tcp", "carol", "pw-one", "one.test", "relay.one.test"},
		{"msrp://two.test;tcp", "carol", "pw-two", "two.test", "127.0.0.1"},
		{"msrp://TWO.test:" + port + ";tcp", "carol", "pw-two", "two.test", "127.0.0.1"},
		{r.uri, relayUser, relayPass, relayRealm, "127.0.0.1"},
	} {
		c := dialClient(t, r.tcp, tc.via)
		c.send(c.authRequest("", "", nil, 0))
		ch, err := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
		if err != nil || ch["realm"] != tc.realm {
			t.Fatalf("AUTH to %s: realm %q (%v), want %q", tc.via, ch["realm"], err, tc.realm)
		}
		c.auth(tc.user, tc.pass)
		u, err := msrp.ParseURI(c.use)
		if err != nil || u.Host != tc.host {
			t.Errorf("AUTH to %s: Use-Path %q, want host %s", tc.via, c.use, tc.host)
		}
		// The password of the other domain is wrong here.
		if tc.realm == "one.test" {
			w := dialClient(t, r.tcp, tc.via)
			w.send(w.authRequest("", "", nil, 0))
			ch, _ := digest.Parse(w.next(5 * time.Second).WWWAuthenticate())
			w.send(w.authRequest("carol", "pw-two", ch, 1))
			if resp := w.next(5 * time.Second); resp.StatusCode != 401 {
				t.Errorf("carol with two.test's password in one.test: %d, want 401", resp.StatusCode)
			}
		}
	}
	// Clients of two domains chat through the relay.
	a, b := dialClient(t, r.tcp, "msrp://one.test;tcp"), dialClient(t, r.ws, "msrp://two.test;ws")
	a.auth("carol", "pw-one")
	b.auth("carol", "pw-two")
	chatOver(t, a, b, pathTo(a, b), "across domains")
	chatOver(t, b, a, pathTo(b, a), "and back")

	if _, err := New(Config{Credentials: creds, Domains: []Domain{{Name: "bad name"}}}); !errors.Is(err, errBadDomain) {
		t.Errorf("bad domain name: %v", err)
	}
}

// failingStore is a CredentialLookup whose database can be switched off.
type failingStore struct {
	*MemoryCredentials
	down atomic.Bool
}

func (f *failingStore) LookupHA1(ctx context.Context, user, realm string) (string, bool, error) {
	if f.down.Load() {
		return "", false, errors.New("connection refused")
	}
	ha1, ok := f.MemoryCredentials.HA1(user, realm)
	return ha1, ok, nil
}

// A credential store that cannot answer gets the AUTH a 500 and a log
// line, counts as no failed attempt, and disturbs no session.
func TestAuthCredentialsUnavailable(t *testing.T) {
	checkGoroutines(t)
	store := &failingStore{MemoryCredentials: testCredentials()}
	r := newTestRelay(t, func(c *Config) { c.Credentials = store; c.MaxAuthFailures = 2 })
	a, b := dialClient(t, r.tcp, r.uri), dialClient(t, r.ws, r.wsURI)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")

	store.down.Store(true)
	c := dialClient(t, r.tcp, r.uri)
	for i := 0; i < 4; i++ { // more than MaxAuthFailures: not counted
		c.send(c.authRequest("", "", nil, 0))
		ch, _ := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
		c.send(c.authRequest(relayUser, relayPass, ch, 1))
		if resp := c.next(5 * time.Second); resp.StatusCode != 500 {
			t.Fatalf("AUTH %d with the store down: %d, want 500", i, resp.StatusCode)
		}
	}
	chatOver(t, a, b, pathTo(a, b), "still chatting")
	chatOver(t, b, a, pathTo(b, a), "still chatting back")
	if st := r.srv.Stats(); st.AuthUnavailable != 4 || st.AuthFailures != 0 {
		t.Errorf("stats %+v: want 4 unavailable, 0 failures", st)
	}
	if !strings.Contains(r.logBuf.String(), "credentials unavailable: connection refused") {
		t.Errorf("no log line for the outage:\n%s", r.logBuf.String())
	}
	store.down.Store(false)
	c.auth(relayUser, relayPass)
	chatOver(t, c, a, pathTo(c, a), "after the outage")
}

// A DNS server that does not answer is no reason to dial the domain's own
// name: the request gets 408 and a log line, and nothing is dialled.
func TestNextHopSRVWithSilentDNS(t *testing.T) {
	checkGoroutines(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rec := newDialRecorder(t)
	r := newTestRelay(t, func(c *Config) {
		c.Outbound = OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true,
			Resolver: srv.New(srv.Config{Server: pc.LocalAddr().String(), Timeout: 50 * time.Millisecond})}
		c.Transport.DialContext = rec.dial
	})
	a := dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)
	if resp := sendTo(t, a, "msrp://peer.test/s1;tcp"); resp.StatusCode != 408 {
		t.Fatalf("got %d %s, want 408", resp.StatusCode, resp.Comment)
	}
	if tried := rec.tried(); len(tried) != 0 {
		t.Errorf("the relay dialled %v without an answer from DNS", tried)
	}
	if !strings.Contains(r.logBuf.String(), "_msrp._tcp.peer.test") {
		t.Errorf("log does not name the lookup:\n%s", r.logBuf.String())
	}
}
