package relay

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// dialActive connects an endpoint without relay AUTH to target, the way
// an a=setup:active MSRP stack does: its URI names the local address and
// port of the connection it opened, where nothing listens.
func dialActive(t *testing.T, target, scheme string, tlsConfig *tls.Config) *client {
	t.Helper()
	c := dialClientWith(t, target, "", transport.DialOptions{TLSConfig: tlsConfig})
	c.uri = fmt.Sprintf("%s://%s/%s;tcp", scheme, c.conn.LocalAddr(), msrp.NewTransactionID())
	return c
}

// mustBeClosed checks that nothing listens where uri points.
func mustBeClosed(t *testing.T, uri string) {
	t.Helper()
	u, err := msrp.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(u.Host, fmt.Sprint(u.Port)), time.Second); err == nil {
		c.Close()
		t.Fatalf("something listens at %s", uri)
	}
}

// waitServed waits until the relay serves c's connection: a client's
// dial returns before the relay accepted it.
func waitServed(t *testing.T, r *testRelay, c *client) {
	t.Helper()
	addr := c.conn.LocalAddr().String()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		for _, p := range r.srv.snapshot() {
			if p.addr == addr {
				return
			}
		}
	}
	t.Fatalf("the relay does not serve %s", addr)
}

// serveTLS adds a TLS listener for endpoints (no client certificate) to
// r, whose Config must carry Transport.TLSConfig; it returns its address.
func serveTLS(t *testing.T, r *testRelay) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { r.srv.ServeTLS(l); close(done) }()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().String()
}

// TestActivePeerWithoutListener: an endpoint that connects to the relay
// itself, does no AUTH and does not listen (its URI's port is closed)
// chats both ways with a client of the relay over TCP and TLS: what the
// client sends it goes over the connection it opened. The relay runs the
// default outbound policy, which would refuse to dial it, and the dial
// hook shows that it never tries.
func TestActivePeerWithoutListener(t *testing.T) {
	checkGoroutines(t)
	ca := testpki.NewCA(t)
	leaf := ca.Issue("relay.test")
	for _, kind := range []string{"tcp", "tls"} {
		t.Run(kind, func(t *testing.T) {
			rec := newDialRecorder(t)
			r := newTestRelay(t, func(c *Config) {
				c.Transport.DialContext = rec.dial
				c.Transport.TLSConfig = &tls.Config{Certificates: []tls.Certificate{leaf.Cert}}
			})
			b := dialClient(t, r.ws, r.wsURI)
			b.auth("bob", "secret-bob")
			var c *client
			if kind == "tcp" {
				c = dialActive(t, r.tcp, "msrp", nil)
			} else {
				c = dialActive(t, "tls://"+serveTLS(t, r), "msrps", &tls.Config{RootCAs: ca.Pool, ServerName: "relay.test"})
			}
			mustBeClosed(t, c.uri)

			for i := 0; i < 5; i++ {
				chatOver(t, c, b, b.use+" "+b.uri, fmt.Sprintf("c->b %d", i))
				chatOver(t, b, c, b.use+" "+c.uri, fmt.Sprintf("b->c %d", i))
			}
			// A REPORT from the client reaches the endpoint too (REPORTs
			// are not answered).
			b.send(request("REPORT", b.use+" "+c.uri, b.uri, "Message-ID", "m1", "Byte-Range", "1-4/4", "Status", "000 200 OK"))
			if m := c.next(5 * time.Second); m.Method != "REPORT" || m.MessageID() != "m1" {
				t.Fatalf("endpoint got %s %q, want the REPORT", m.Method, m.MessageID())
			}
			if tried := rec.tried(); len(tried) != 0 {
				t.Errorf("the relay dialled %v", tried)
			}
			if n := r.srv.Stats().NextHopsRefused; n != 0 {
				t.Errorf("%d next hops refused", n)
			}
		})
	}
}

// TestEndpointBehindNAT: an endpoint whose URI names an address the
// relay cannot reach (its address before a NAT) is answered over its
// connection once it sent a request into the session.
func TestEndpointBehindNAT(t *testing.T) {
	checkGoroutines(t)
	rec := newDialRecorder(t)
	r := newTestRelay(t, func(c *Config) { c.Transport.DialContext = rec.dial })
	b := dialClient(t, r.ws, r.wsURI)
	b.auth("bob", "secret-bob")
	c := dialActive(t, r.tcp, "msrp", nil)
	c.uri = "msrp://203.0.113.9:41000/natted;tcp"

	// Before it spoke, the relay knows no way to it (and will not dial
	// plain msrp by default).
	b.sendText(b.use+" "+c.uri, []byte("too early"))
	if resp := b.next(5 * time.Second); resp.StatusCode != 403 {
		t.Fatalf("before the endpoint spoke: %d, want 403", resp.StatusCode)
	}
	for i := 0; i < 3; i++ {
		chatOver(t, c, b, b.use+" "+b.uri, fmt.Sprintf("c->b %d", i))
		chatOver(t, b, c, b.use+" "+c.uri, fmt.Sprintf("b->c %d", i))
	}
	if tried := rec.tried(); len(tried) != 0 {
		t.Errorf("the relay dialled %v", tried)
	}
}

// TestReuseCannotBeHijacked: a connection that names another endpoint's
// URI in its From-Path does not get that endpoint's traffic; an address
// match beats a From-Path claim; a From-Path binding serves only the
// session it was made in; authenticated clients are reached only through
// their Use-Path; and an msrps URI never goes out over plain TCP.
func TestReuseCannotBeHijacked(t *testing.T) {
	checkGoroutines(t)
	rec := newDialRecorder(t)
	r := newTestRelay(t, func(c *Config) { c.Transport.DialContext = rec.dial })
	b := dialClient(t, r.ws, r.wsURI)
	b.auth("bob", "secret-bob")
	d := dialClient(t, r.tcp, r.uri)
	d.auth(relayUser, relayPass)

	// c binds its URI first; m claims it afterwards.
	c := dialActive(t, r.tcp, "msrp", nil)
	c.uri = "msrp://203.0.113.9:41000/c;tcp"
	chatOver(t, c, b, b.use+" "+b.uri, "c first")
	m := dialActive(t, r.tcp, "msrp", nil)
	m.uri = c.uri
	chatOver(t, m, b, b.use+" "+b.uri, "m claims c's URI")
	chatOver(t, b, c, b.use+" "+c.uri, "for c only")
	expectNothing(t, m, 100*time.Millisecond)

	// c2 has not spoken; m names c2's address before c2 does.
	c2 := dialActive(t, r.tcp, "msrp", nil)
	waitServed(t, r, c2)
	m.uri = c2.uri
	chatOver(t, m, b, b.use+" "+b.uri, "m claims c2's address")
	chatOver(t, b, c2, b.use+" "+c2.uri, "for c2 only")
	expectNothing(t, m, 100*time.Millisecond)

	// m's own URI, bound in b's session, does not route for d's session.
	m.uri = "msrp://203.0.113.10:41000/m;tcp"
	chatOver(t, m, b, b.use+" "+b.uri, "m's own URI")
	d.sendText(d.use+" "+m.uri, []byte("d to m"))
	if resp := d.next(5 * time.Second); resp.StatusCode != 403 {
		t.Fatalf("d to m's URI: %d, want 403 (not bound in d's session; plain msrp is not dialled)", resp.StatusCode)
	}
	expectNothing(t, m, 100*time.Millisecond)

	// d is an authenticated client: its address is no way to it.
	dAddr := "msrp://" + d.conn.LocalAddr().String() + "/x;tcp"
	b.sendText(b.use+" "+dAddr, []byte("b to d's address"))
	if resp := b.next(5 * time.Second); resp.StatusCode != 403 {
		t.Fatalf("b to d's address: %d, want 403", resp.StatusCode)
	}
	expectNothing(t, d, 100*time.Millisecond)

	// An msrps URI naming a plain TCP connection's address, or claimed
	// over one, is not reached over it.
	c3 := dialActive(t, r.tcp, "msrps", nil)
	b.sendText(b.use+" "+c3.uri, []byte("b to c3 in clear?"))
	if resp := b.next(5 * time.Second); resp.StatusCode != 403 {
		t.Fatalf("msrps URI of a TCP connection: %d, want 403", resp.StatusCode)
	}
	chatOver(t, c3, b, b.use+" "+b.uri, "c3 claims an msrps URI over TCP")
	b.sendText(b.use+" "+c3.uri, []byte("b to c3 in clear?"))
	if resp := b.next(5 * time.Second); resp.StatusCode != 403 {
		t.Fatalf("msrps URI claimed over TCP: %d, want 403", resp.StatusCode)
	}
	expectNothing(t, c3, 100*time.Millisecond)
	if tried := rec.tried(); len(tried) != 0 {
		t.Errorf("the relay dialled %v", tried)
	}
}

// TestActivePeerGone: chunks in flight to an endpoint whose connection
// closes end in failure REPORTs as for any next hop; afterwards its URI
// is dialled like any other (and refused, or found closed).
func TestActivePeerGone(t *testing.T) {
	checkGoroutines(t)
	for _, tc := range []struct {
		name   string
		policy OutboundPolicy
		want   int
	}{
		{"default policy", OutboundPolicy{}, 403},
		{"loopback allowed", OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}, 408},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRelay(t, func(c *Config) { c.Outbound = tc.policy })
			b := dialClient(t, r.ws, r.wsURI)
			b.auth("bob", "secret-bob")
			c := dialActive(t, r.tcp, "msrp", nil)
			chatOver(t, c, b, b.use+" "+b.uri, "hello")
			lost := b.sendText(b.use+" "+c.uri, []byte("never answered"))
			c.next(5 * time.Second) // it arrived; c leaves without a 200
			if resp := b.next(5 * time.Second); resp.StatusCode != 200 {
				t.Fatalf("got %d, want the relay's 200", resp.StatusCode)
			}
			c.conn.Close(0, "vanish")
			rep := b.next(5 * time.Second)
			if st, _ := rep.Status(); rep.Method != "REPORT" || st.Code != 408 || rep.MessageID() != lost.MessageID() {
				t.Fatalf("got %s %q, want a failure REPORT 408", rep.Method, rep.Header("Status"))
			}
			// Now there is no connection: the relay dials, by its policy.
			b.sendText(b.use+" "+c.uri, []byte("after"))
			if resp := b.next(5 * time.Second); resp.StatusCode != tc.want {
				t.Fatalf("after the endpoint left: %d %q, want %d", resp.StatusCode, resp.Comment, tc.want)
			}
		})
	}
}

// TestActivePeerThroughTwoRelays: alice is a client of R1 and, through
// R1, of R2 (one AUTH per relay, RFC 4976 section 5.1); an endpoint that
// connects to R2 without AUTH and does not listen chats with her both
// ways, A <-> R1 <-> R2 <-> C. R1 may dial R2 on loopback over plain TCP;
// R2 keeps the default policy and never dials.
func TestActivePeerThroughTwoRelays(t *testing.T) {
	checkGoroutines(t)
	rec := newDialRecorder(t)
	r1 := newTestRelay(t, func(c *Config) { c.Outbound = OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true} })
	r2 := newTestRelay(t, func(c *Config) { c.Transport.DialContext = rec.dial })
	a := dialClient(t, r1.ws, r1.wsURI)
	a.auth(relayUser, relayPass)
	use2 := a.authThrough(r2.uri, relayUser, relayPass)
	c := dialActive(t, r2.tcp, "msrp", nil)
	mustBeClosed(t, c.uri)

	aPath := use2 + " " + a.use + " " + a.uri // what alice offers in her SDP
	for i := 0; i < 5; i++ {
		chatOver(t, c, a, aPath, fmt.Sprintf("c->a %d", i))
		chatOver(t, a, c, a.use+" "+use2+" "+c.uri, fmt.Sprintf("a->c %d", i))
	}
	if tried := rec.tried(); len(tried) != 0 {
		t.Errorf("R2 dialled %v", tried)
	}
}

// authThrough AUTHs to the relay whose base URI is relay through the
// relay c is a client of, and returns the Use-Path it grants.
func (c *client) authThrough(relay, user, pass string) string {
	c.t.Helper()
	to := c.use + " " + relay
	c.send(request("AUTH", to, c.uri))
	r := c.next(5 * time.Second)
	if r.StatusCode != 401 {
		c.t.Fatalf("AUTH through %s: %d, want 401", c.use, r.StatusCode)
	}
	ch, err := digest.Parse(r.WWWAuthenticate())
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(request("AUTH", to, c.uri, "Authorization", digestAuthorization(user, pass, ch, relay, "AUTH", 1)))
	if r = c.next(5 * time.Second); r.StatusCode != 200 {
		c.t.Fatalf("AUTH through %s: %d, want 200", c.use, r.StatusCode)
	}
	return r.Header("Use-Path")
}

// TestRelayConnectionReusedOverMutualTLS: R2 may not dial anything on
// loopback, yet answers go back to R1 over the connection R1 opened,
// because R1's verified certificate names the host of its URIs (RFC
// 4976 section 6.3).
func TestRelayConnectionReusedOverMutualTLS(t *testing.T) {
	checkGoroutines(t)
	ca := testpki.NewCA(t)
	rec := newDialRecorder(t)
	r1 := newTLSRelay(t, ca, "relay1.test")
	r2 := newTLSRelay(t, ca, "relay2.test", func(c *Config) {
		c.Outbound = OutboundPolicy{}
		c.Transport.DialContext = rec.dial
	})
	a, b := dialClient(t, r1.ws, r1.wsURI), dialClient(t, r2.ws, r2.wsURI)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")
	for i := 0; i < 5; i++ {
		chatOver(t, a, b, a.use+" "+b.use+" "+b.uri, fmt.Sprintf("a->b %d", i))
		chatOver(t, b, a, b.use+" "+a.use+" "+a.uri, fmt.Sprintf("b->a %d", i))
	}
	if tried := rec.tried(); len(tried) != 0 {
		t.Errorf("R2 dialled %v", tried)
	}
	if strings.Contains(r2.log.String(), "outbound connection") {
		t.Errorf("R2 opened an outbound connection:\n%s", r2.log.String())
	}
}
