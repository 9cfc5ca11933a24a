package transport

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/keepalive"
)

// schedulers counts the goroutines running a keepalive Scheduler's ticker.
func schedulers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "keepalive.(*Scheduler).run(")
}

// waitSchedulers waits until want Scheduler tickers run, and returns how
// many run then.
func waitSchedulers(want int) int {
	n := schedulers()
	for end := time.Now().Add(2 * time.Second); n != want && time.Now().Before(end); n = schedulers() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// One Host, one Scheduler: connections it accepts over TCP and WebSocket
// and a connection it dials are all probed by the same ticker, and the
// Host counts them open by kind.
func TestHostSharesOneScheduler(t *testing.T) {
	leakCheck(t)
	if n := waitSchedulers(0); n != 0 {
		t.Fatalf("%d Schedulers running before the test", n)
	}
	// Probing on, but no probe within the test: no peer here answers
	// bodiless SENDs.
	h := newHost(t, Config{Keepalive: keepalive.Config{Interval: 10 * time.Second}})
	got := make(serverConns, 4)
	addr := serveStream(t, h, holdHandler(got, true, nil))
	url := serveWS(t, h, holdHandler(got, true, nil))

	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ws := dialRawWS(t, url)
	go func() { // answers our Pings, so nothing closes for liveness
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}()
	c, err := h.Dial(t.Context(), Target{Kind: KindTCP, Addr: addr}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ReasonLocal, "test over")
	for range 3 {
		waitConn(t, got)
	}
	waitSchedulers(1)
	time.Sleep(20 * time.Millisecond) // a second ticker, if any, has started by now
	if n := schedulers(); n != 1 {
		t.Errorf("%d Schedulers for one Host's connections, want 1", n)
	}
	open := h.Stats().Open
	if open[KindTCP] != 3 || open[KindWS] != 1 || open[KindTLS] != 0 {
		t.Errorf("Stats().Open = %v, want 3 tcp (2 accepted, 1 dialled) and 1 ws", open)
	}
}

// Close stops a Host: its listeners, its open connections, its handlers
// and its dialer, and counts the closes.
func TestHostClose(t *testing.T) {
	leakCheck(t)
	var logs logBuffer
	h := newHost(t, Config{LoggerFactory: testLogger(&logs)})
	got := make(serverConns, 2)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- h.ServeStream(l, holdHandler(got, true, nil)) }()
	srv := httptest.NewServer(h.WebSocketHandler(holdHandler(got, true, nil)))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	// One connection accepted, one dialled (to another Host's listener).
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	s := waitConn(t, got)
	other := serveStream(t, newHost(t, Config{}), holdHandler(nil, true, nil))
	c, err := h.Dial(t.Context(), Target{Kind: KindTCP, Addr: other}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, conn := range []*Conn{c, s} {
		waitClosed(t, conn, time.Second)
		if conn.Reason() != ReasonShutdown {
			t.Errorf("reason %v, want shutdown", conn.Reason())
		}
	}
	select {
	case err := <-served:
		if !errors.Is(err, ErrHostClosed) {
			t.Errorf("ServeStream returned %v, want ErrHostClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ServeStream still running after Close")
	}
	if _, err := h.Dial(t.Context(), Target{Kind: KindTCP, Addr: l.Addr().String()}, DialOptions{}); !errors.Is(err, ErrHostClosed) {
		t.Errorf("Dial after Close: %v, want ErrHostClosed", err)
	}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ServeStream(l2, holdHandler(got, true, nil)); !errors.Is(err, ErrHostClosed) {
		t.Errorf("ServeStream after Close: %v, want ErrHostClosed", err)
	}
	if _, err := l2.Accept(); err == nil {
		t.Error("ServeStream after Close left its listener open")
	}
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}}
	if _, resp, err := d.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("handshake after Close: %v (response %v), want HTTP 503", err, resp)
	}
	st := h.Stats()
	if st.Open[KindTCP] != 0 || st.Closed[ReasonShutdown] != 2 {
		t.Errorf("Stats after Close: open %v, closed %v; want none open, 2 shutdown", st.Open, st.Closed)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// New refuses a bad Config at once, rather than on the first connection.
func TestNewRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"origin without scheme", Config{AllowedOrigins: []string{"app.example.com"}}},
		{"negative size", Config{MaxChunk: -1}},
		{"negative timeout", Config{WriteTimeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := New(tc.cfg); !errors.Is(err, ErrBadConfig) {
				t.Errorf("New = %v, %v; want ErrBadConfig", h, err)
			}
		})
	}
	if _, err := New(Config{}); err != nil {
		t.Errorf("New(zero Config) = %v", err)
	}
	// ServeTLS without a certificate is a config error, not a crash.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := newHost(t, Config{}).ServeTLS(l, func(*Conn) {}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("ServeTLS without TLSConfig: %v, want ErrBadConfig", err)
	}
}

// Stats shows kinds and reasons by name in JSON, as /debug/vars does.
func TestStatsJSON(t *testing.T) {
	b, err := json.Marshal(Stats{Closed: map[CloseReason]uint64{ReasonSlowConsumer: 2}, Open: map[Kind]int64{KindWSS: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"slow-consumer":2`, `"wss":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}
