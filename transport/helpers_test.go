package transport

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
)

// Millisecond keepalive timings for the tests; slack absorbs -race and
// a busy 2-core machine.
const (
	kaInterval = 40 * time.Millisecond
	kaTimeout  = 40 * time.Millisecond
	slack      = 200 * time.Millisecond
)

func fastKeepalive() keepalive.Config {
	return keepalive.Config{Interval: kaInterval, Timeout: kaTimeout, Misses: 2}
}

// leakCheck fails the test if goroutines started during it outlive it.
func leakCheck(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// logBuffer captures pion log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(buf *logBuffer) logging.LoggerFactory {
	return &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelInfo}
}

// serverConns hands the server side's Conns to the test.
type serverConns chan *Conn

// holdHandler keeps each server Conn reading (answering SENDs with 200
// when answer is set) until the peer or the test closes it.
func holdHandler(got serverConns, answer bool, frames chan<- Frame) func(*Conn) {
	return func(c *Conn) {
		if got != nil {
			got <- c
		}
		for {
			f, err := c.Read()
			if err != nil {
				return
			}
			if frames != nil {
				f.Msg = f.Msg.Clone()
				frames <- f
			}
			if answer && f.Last && f.Msg.Method == msrp.MethodSEND {
				_ = c.Send(f.Msg.Response(200, "OK"))
			}
		}
	}
}

// newHost makes a Host of cfg, failing the test if cfg is bad.
func newHost(t testing.TB, cfg Config) *Host {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// testDial dials target through a Host of its own made of cfg.
func testDial(ctx context.Context, target string, cfg Config, opts DialOptions) (*Conn, error) {
	h, err := New(cfg)
	if err != nil {
		return nil, err
	}
	tg, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	return h.Dial(ctx, tg, opts)
}

// startWS serves a Host of cfg's WebSocket handler on 127.0.0.1:0 and
// returns the ws:// URL.
func startWS(t *testing.T, cfg Config, handle func(*Conn)) string {
	t.Helper()
	return serveWS(t, newHost(t, cfg), handle)
}

// serveWS serves h's WebSocket handler on 127.0.0.1:0 and returns the
// ws:// URL.
func serveWS(t *testing.T, h *Host, handle func(*Conn)) string {
	t.Helper()
	srv := httptest.NewServer(h.WebSocketHandler(handle))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// startStream runs a Host of cfg's ServeStream on 127.0.0.1:0, or its
// ServeTLS when cfg has a TLSConfig, and returns the address.
func startStream(t *testing.T, cfg Config, handle func(*Conn)) string {
	t.Helper()
	return serveStream(t, newHost(t, cfg), handle)
}

// serveStream runs h's ServeStream, or ServeTLS, on 127.0.0.1:0 and
// returns the address.
func serveStream(t *testing.T, h *Host, handle func(*Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		if h.Config().TLSConfig != nil {
			done <- h.ServeTLS(l, handle)
		} else {
			done <- h.ServeStream(l, handle)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; !IsClosed(err) {
			t.Errorf("ServeStream returned %v, want a net.ErrClosed error", err)
		}
	})
	return l.Addr().String()
}

// dialRawWS opens a plain gorilla client offering msrp.
func dialRawWS(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"msrp"}}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func waitConn(t *testing.T, got serverConns) *Conn {
	t.Helper()
	select {
	case c := <-got:
		return c
	case <-time.After(2 * time.Second):
		t.Fatal("no server connection")
		return nil
	}
}

func waitClosed(t *testing.T, c *Conn, within time.Duration) time.Time {
	t.Helper()
	select {
	case <-c.Done():
		return time.Now()
	case <-time.After(within):
		t.Fatalf("connection not closed within %v", within)
		return time.Time{}
	}
}

func sendReq(tid, body string) *msrp.Message {
	m := &msrp.Message{TransactionID: tid, Method: msrp.MethodSEND, Headers: []msrp.Header{
		{Name: msrp.HeaderToPath, Value: "msrp://relay.example:2855/r1;tcp"},
		{Name: msrp.HeaderFromPath, Value: "msrp://client.invalid:1/c1;ws"},
		{Name: msrp.HeaderMessageID, Value: "m" + tid},
	}}
	if body != "" {
		m.Headers = append(m.Headers, msrp.Header{Name: msrp.HeaderContentType, Value: "text/plain"})
		m.Body = []byte(body)
	}
	return m
}

func wire(t *testing.T, m *msrp.Message) []byte {
	t.Helper()
	b, err := m.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitLog waits for want to appear in the log: a close is logged just
// after Done is closed.
func waitLog(t *testing.T, logs *logBuffer, want string) {
	t.Helper()
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(logs.String(), want) {
			return
		}
	}
	t.Errorf("log lacks %q:\n%s", want, logs.String())
}
