package endpoint

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/relaytest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
)

const (
	testRealm = "test.invalid"
	alicePass = "secret-alice"
	bobPass   = "secret-bob"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func loggerFactory(buf *syncBuffer) logging.LoggerFactory {
	return &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelDebug,
		ScopeLevels: map[string]logging.LogLevel{}}
}

// newTestRelay starts a relay with alice and bob in testRealm. tcpAddr
// and wsAddr may name fixed ports (to restart a relay in place); "" means
// 127.0.0.1:0.
func newTestRelay(t *testing.T, tcpAddr, wsAddr string, mutate func(*relay.Config)) *relaytest.Relay {
	t.Helper()
	return relaytest.Start(t, relaytest.Options{
		TCPAddr: tcpAddr, WSAddr: wsAddr,
		Realm:    testRealm,
		Users:    map[string]string{"alice": alicePass, "bob": bobPass},
		LogLevel: logging.LogLevelDebug,
		Config:   mutate,
	})
}

// dial connects an endpoint as alice (or bob) and closes it at cleanup.
func dial(t *testing.T, relayURL, user string, mutate func(*Config)) *Endpoint {
	t.Helper()
	buf := &syncBuffer{}
	pass := alicePass
	if user == "bob" {
		pass = bobPass
	}
	cfg := Config{Relay: relayURL, User: user, Password: pass, LoggerFactory: loggerFactory(buf),
		Keepalive: keepalive.Config{Interval: -1}}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial %s as %s: %v", relayURL, user, err)
	}
	t.Cleanup(func() {
		_ = e.Close()
		if t.Failed() {
			t.Logf("endpoint %s log:\n%s", user, buf.String())
		}
	})
	return e
}

// next waits for an incoming message.
func next(t *testing.T, e *Endpoint, d time.Duration) *Message {
	t.Helper()
	select {
	case m, ok := <-e.Messages():
		if !ok {
			t.Fatalf("endpoint stopped (%v) while waiting for a message", e.Err())
		}
		return m
	case <-time.After(d):
		t.Fatalf("no message within %v", d)
	}
	return nil
}

// checkGoroutines fails the test if goroutines it started outlive it.
// Call it first, so that its cleanup runs last.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }
