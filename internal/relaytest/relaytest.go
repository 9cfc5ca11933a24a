// Package relaytest starts relays for tests, the one way every package's
// tests run a relay (as nats-server's test.RunServer or coredns's
// dnstest): a relay.Server on loopback with a TCP and a WebSocket
// listener, users of the test's choosing, keepalive off unless asked for,
// and its log shown when the test fails. Package relay's own tests cannot
// import it (it imports relay) and keep their in-package fixture.
package relaytest

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

// Options configure a test relay. The zero value is a relay on
// 127.0.0.1 with a TCP and a WebSocket listener on new ports, realm
// "test", users alice (password "alicepw") and bob ("bobpw"), and no
// keepalive.
type Options struct {
	// TCPAddr and WSAddr are the listen addresses. "" means
	// 127.0.0.1:0; "-" means no such listener. A fixed port (a relay
	// restarted in place) is retried for a moment while it is busy.
	TCPAddr, WSAddr string
	// Realm is the Digest realm. "" means "test".
	Realm string
	// Users maps user names to passwords in Realm. nil means alice and
	// bob as above; Config may set Credentials instead.
	Users map[string]string
	// LogLevel is the relay's log level. 0 means info.
	LogLevel logging.LogLevel
	// Config, if set, changes the relay's Config before relay.New: the
	// place for keepalive, limits, an outbound policy, domains.
	Config func(*relay.Config)
}

// Relay is a running test relay. Start stops it when the test ends.
type Relay struct {
	// Server is the relay.
	Server *relay.Server
	// TCPAddr and WSAddr are the listeners' addresses ("" for none).
	TCPAddr, WSAddr string
	// TCP is the relay's TCP URL for an endpoint (msrp://ADDR;tcp), WS
	// its WebSocket URL (ws://ADDR/).
	TCP, WS string
	// Logs holds the relay's log.
	Logs *Logs

	done     sync.WaitGroup
	stopOnce sync.Once
}

// Start runs a relay for the rest of the test.
func Start(t testing.TB, o Options) *Relay {
	t.Helper()
	if o.Realm == "" {
		o.Realm = "test"
	}
	if o.Users == nil {
		o.Users = map[string]string{"alice": "alicepw", "bob": "bobpw"}
	}
	if o.LogLevel == 0 {
		o.LogLevel = logging.LogLevelInfo
	}
	r := &Relay{Logs: &Logs{}}
	tl := listen(t, o.TCPAddr)
	wl := listen(t, o.WSAddr)
	creds := relay.NewMemoryCredentials()
	for user, pass := range o.Users {
		creds.Add(user, o.Realm, pass)
	}
	cfg := relay.Config{
		Host:        "127.0.0.1",
		Realm:       o.Realm,
		Credentials: creds,
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: r.Logs, DefaultLogLevel: o.LogLevel,
			ScopeLevels: map[string]logging.LogLevel{}},
		Transport: transport.Config{Keepalive: keepalive.Config{Interval: -1}},
	}
	if tl != nil {
		cfg.Port = tl.Addr().(*net.TCPAddr).Port
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	srv, err := relay.New(cfg)
	if err != nil {
		closeAll(tl, wl)
		t.Fatalf("relaytest: %v", err)
	}
	r.Server = srv
	if tl != nil {
		r.TCPAddr = tl.Addr().String()
		r.TCP = "msrp://" + r.TCPAddr + ";tcp"
		r.done.Add(1)
		go func() { defer r.done.Done(); _ = srv.ServeTCP(tl) }()
	}
	if wl != nil {
		r.WSAddr = wl.Addr().String()
		r.WS = "ws://" + r.WSAddr + "/"
		r.done.Add(1)
		go func() { defer r.done.Done(); _ = srv.ServeWebSocket(wl, false) }()
	}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			t.Logf("relay log:\n%s", r.Logs)
		}
	})
	return r
}

// URL returns the relay's URL for kind "ws" or "tcp".
func (r *Relay) URL(kind string) string {
	if kind == "ws" {
		return r.WS
	}
	return r.TCP
}

// Stop closes the relay at once and waits for its listeners; it is safe
// to call more than once.
func (r *Relay) Stop() {
	r.stopOnce.Do(func() {
		_ = r.Server.Close()
		r.done.Wait()
	})
}

// listen opens addr ("" for a new port, "-" for none), retrying a fixed
// port for a moment: a relay restarted in place may find its port busy.
func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	switch addr {
	case "-":
		return nil
	case "":
		addr = "127.0.0.1:0"
	}
	var err error
	for end := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			return l
		}
		if strings.HasSuffix(addr, ":0") || time.Now().After(end) {
			break
		}
	}
	t.Fatalf("relaytest: %v", err)
	return nil
}

func closeAll(ls ...net.Listener) {
	for _, l := range ls {
		if l != nil {
			_ = l.Close()
		}
	}
}

// Logs collects a relay's log from all its goroutines.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns the log so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
