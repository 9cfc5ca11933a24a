package relay

import (
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
	"github.com/pion/logging"
)

// tlsRelay is a relay whose URIs are msrps:// on a mutual-TLS listener
// for other relays, with a WebSocket listener for its clients.
type tlsRelay struct {
	srv   *Server
	ws    string
	wsURI string
	log   *syncBuffer
}

func newTLSRelay(t *testing.T, ca *testpki.CA, name string, mutate ...func(*Config)) *tlsRelay {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startTLSRelay(t, ca, name, tl, tl.Addr().(*net.TCPAddr).Port, mutate...)
}

// startTLSRelay serves relay-to-relay TLS on tl, advertising port in its
// URIs, and WebSocket for clients on a port of its own. The relays may
// dial each other on loopback unless a mutate function says otherwise.
func startTLSRelay(t *testing.T, ca *testpki.CA, name string, tl net.Listener, port int, mutate ...func(*Config)) *tlsRelay {
	t.Helper()
	leaf := ca.Issue(name)
	buf := &syncBuffer{}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Host:          "127.0.0.1",
		Port:          port,
		Secure:        true,
		Realm:         relayRealm,
		Credentials:   testCredentials(),
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelDebug},
		// Relay to relay is mutual TLS (RFC 4976 section 9.2): we demand
		// the other relay's certificate and present ours when dialling.
		OutboundTLS: &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{leaf.Cert}},
		// The relays of these tests are all on this machine.
		Outbound: OutboundPolicy{Allow: []string{"127.0.0.0/8"}},
		Transport: transport.Config{
			Keepalive: keepalive.Config{Interval: -1},
			TLSConfig: &tls.Config{
				Certificates: []tls.Certificate{leaf.Cert},
				ClientCAs:    ca.Pool,
				ClientAuth:   tls.RequireAndVerifyClientCert,
			},
		},
	}
	for _, f := range mutate {
		f(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { srv.ServeTLS(tl); done <- struct{}{} }()
	go func() { srv.ServeWebSocket(wl, false); done <- struct{}{} }()
	t.Cleanup(func() {
		srv.Close()
		<-done
		<-done
		if t.Failed() {
			t.Logf("%s log:\n%s", name, buf.String())
		}
	})
	return &tlsRelay{srv: srv, ws: "ws://" + wl.Addr().String() + "/", wsURI: "msrp://" + wl.Addr().String() + ";ws", log: buf}
}

func TestTwoRelaysChainedOverMutualTLS(t *testing.T) {
	checkGoroutines(t)
	ca := testpki.NewCA(t)
	r1, r2 := newTLSRelay(t, ca, "relay1.test"), newTLSRelay(t, ca, "relay2.test")
	a, b := dialClient(t, r1.ws, r1.wsURI), dialClient(t, r2.ws, r2.wsURI)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")

	// A -> R1 -> R2 -> B and back, several messages each way.
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf("hello %d from a", i)
		a.sendText(a.use+" "+b.use+" "+b.uri, []byte(body))
		m := b.next(5 * time.Second)
		if string(m.Body) != body {
			t.Fatalf("b got %q, want %q", m.Body, body)
		}
		if want := b.use + " " + a.use + " " + a.uri; m.Header("From-Path") != want {
			t.Fatalf("From-Path %q, want %q", m.Header("From-Path"), want)
		}
		b.send(m.Response(200, "OK"))
		if r := a.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("a got %d", r.StatusCode)
		}
		reply := fmt.Sprintf("reply %d from b", i)
		b.sendText(b.use+" "+a.use+" "+a.uri, []byte(reply))
		m = a.next(5 * time.Second)
		if string(m.Body) != reply {
			t.Fatalf("a got %s %q, want %q", m.Method, m.Body, reply)
		}
		a.send(m.Response(200, "OK"))
		if r := b.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("b got %d", r.StatusCode)
		}
	}
}

func TestRelayWithoutClientCertificateRefused(t *testing.T) {
	checkGoroutines(t)
	ca := testpki.NewCA(t)
	r1, r2 := newTLSRelay(t, ca, "relay1.test"), newTLSRelay(t, ca, "relay2.test")
	r1.srv.cfg.OutboundTLS = &tls.Config{RootCAs: ca.Pool} // no certificate of its own
	a, b := dialClient(t, r1.ws, r1.wsURI), dialClient(t, r2.ws, r2.wsURI)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")
	a.sendText(a.use+" "+b.use+" "+b.uri, []byte("no cert"))
	got := a.next(5 * time.Second)
	if got.StatusCode == 200 {
		got = a.next(5 * time.Second)
	}
	st, _ := got.Status()
	if got.StatusCode != 408 && st.Code != 408 {
		t.Fatalf("got %s %d %q, want a 408 (next hop unreachable)", got.Method, got.StatusCode, got.Header("Status"))
	}
	select {
	case m := <-b.msgs:
		t.Fatalf("b got %q through a relay that could not authenticate", m.Body)
	case <-time.After(100 * time.Millisecond):
	}
}
