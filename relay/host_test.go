package relay

import (
	"crypto/tls"
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
)

// schedulerTickers counts the goroutines running a keepalive Scheduler's
// ticker; one runs for each Scheduler that has connections to probe.
func schedulerTickers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "keepalive.(*Scheduler).run(")
}

// A relay runs exactly one keepalive Scheduler, whatever its connections:
// clients over TCP, TLS and WebSocket, and a next hop it dialled all share
// its one transport Host.
func TestRelayRunsOneScheduler(t *testing.T) {
	checkGoroutines(t)
	for end := time.Now().Add(2 * time.Second); schedulerTickers() != 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := schedulerTickers(); n != 0 {
		t.Fatalf("%d Schedulers running before the test", n)
	}
	ca := testpki.NewCA(t)
	leaf := ca.Issue("relay.test")
	peer := newResponder(t)
	r := newTestRelay(t, func(c *Config) {
		// Probing on, but no probe within the test.
		c.Transport.Keepalive = keepalive.Config{Interval: 10 * time.Second}
		c.Transport.TLSConfig = &tls.Config{Certificates: []tls.Certificate{leaf.Cert}}
		c.Outbound = OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}
	})
	tcp := dialClient(t, r.tcp, r.uri)
	tcp.auth(relayUser, relayPass)
	ws := dialClient(t, r.ws, r.wsURI)
	ws.auth(relayUser, relayPass)
	dialClientWith(t, "tls://"+serveTLS(t, r), r.uri, transport.DialOptions{TLSConfig: &tls.Config{RootCAs: ca.Pool, ServerName: "relay.test"}}).auth(relayUser, relayPass)
	if resp := sendTo(t, tcp, "msrp://127.0.0.1:"+strconv.Itoa(peer.port)+"/s1;tcp"); resp.StatusCode != 200 {
		t.Fatalf("SEND to the next hop: %d %s", resp.StatusCode, resp.Comment)
	}
	open := r.srv.Stats().Open
	if open[transport.KindTCP] != 2 || open[transport.KindTLS] != 1 || open[transport.KindWS] != 1 {
		t.Errorf("Stats().Open = %v, want 2 tcp (a client, a next hop), 1 tls, 1 ws", open)
	}
	time.Sleep(20 * time.Millisecond) // a second ticker, if any, has started by now
	if n := schedulerTickers(); n != 1 {
		t.Errorf("%d keepalive Schedulers run in one relay, want 1", n)
	}
}

// New leaves Config.Transport as it was given: the chunk limits it passes
// to the transport go into a copy.
func TestNewKeepsTransportConfig(t *testing.T) {
	lf := logging.NewDefaultLoggerFactory()
	given := transport.Config{
		Keepalive:      keepalive.Config{Interval: -1},
		AllowedOrigins: []string{"https://app.example"},
		LoggerFactory:  lf,
	}
	cfg := Config{Host: "127.0.0.1", Credentials: testCredentials(), MaxChunk: 1 << 20, ForwardChunk: 4096, Transport: given}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !reflect.DeepEqual(s.cfg.Transport, given) {
		t.Errorf("relay's Transport config is %+v, want it as given: %+v", s.cfg.Transport, given)
	}
	if !reflect.DeepEqual(cfg.Transport, given) {
		t.Errorf("caller's Transport config changed to %+v", cfg.Transport)
	}
	if got := s.host.Config(); got.PieceSize != 4096 || got.MaxChunk != 1<<20 {
		t.Errorf("transport Host has PieceSize %d, MaxChunk %d; want the relay's 4096 and %d", got.PieceSize, got.MaxChunk, 1<<20)
	}
}

// A bad transport setting stops New, rather than failing each connection
// (a WebSocket Origin without a scheme once made every handshake HTTP 500).
func TestNewRefusesBadTransportConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		tc   transport.Config
	}{
		{"origin without scheme", transport.Config{AllowedOrigins: []string{"app.example.com"}}},
		{"negative write timeout", transport.Config{WriteTimeout: -time.Second}},
		{"bad keepalive mode", transport.Config{Keepalive: keepalive.Config{Mode: "sometimes"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{Credentials: testCredentials(), Transport: tc.tc})
			if err == nil {
				s.Close()
				t.Fatal("New accepted it")
			}
			if !strings.Contains(err.Error(), "Config.Transport") {
				t.Errorf("error %q does not say it is the transport's setting", err)
			}
		})
	}
	_, err := New(Config{Credentials: testCredentials(), Transport: transport.Config{AllowedOrigins: []string{"app.example.com"}}})
	if !errors.Is(err, transport.ErrBadConfig) || !strings.Contains(err.Error(), `"app.example.com"`) {
		t.Errorf("New with a bad origin: %v, want ErrBadConfig naming the origin", err)
	}
}
