package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// testRelay is a relay on loopback with a TCP and a WebSocket listener.
type testRelay struct {
	srv    *Server
	tcp    string // tcp://127.0.0.1:port
	ws     string // ws://127.0.0.1:port/
	uri    string // base URI for AUTH over TCP
	wsURI  string // base URI for AUTH over WebSocket
	logBuf *syncBuffer
}

const (
	relayUser  = "alice"
	relayPass  = "secret-alice"
	relayRealm = "test.invalid"
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

func newTestRelay(t *testing.T, mutate func(*Config)) *testRelay {
	t.Helper()
	buf := &syncBuffer{}
	lf := &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelDebug, ScopeLevels: map[string]logging.LogLevel{}}
	creds := testCredentials()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Host:          "127.0.0.1",
		Port:          tl.Addr().(*net.TCPAddr).Port,
		Realm:         relayRealm,
		Credentials:   creds,
		LoggerFactory: lf,
		Transport:     transport.Config{Keepalive: keepalive.Config{Interval: -1}},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { srv.ServeTCP(tl); done <- struct{}{} }()
	go func() { srv.ServeWebSocket(wl, false); done <- struct{}{} }()
	// Serve* learn the listening addresses in their goroutines; a test
	// that asks the relay to dial its own WebSocket port must not race
	// that.
	waitListening(t, srv, tl.Addr(), wl.Addr())
	r := &testRelay{
		srv:    srv,
		tcp:    "tcp://" + tl.Addr().String(),
		ws:     "ws://" + wl.Addr().String() + "/",
		uri:    "msrp://" + tl.Addr().String() + ";tcp",
		wsURI:  "msrp://" + wl.Addr().String() + ";ws",
		logBuf: buf,
	}
	t.Cleanup(func() {
		srv.Close()
		<-done
		<-done
		if t.Failed() {
			t.Logf("relay log:\n%s", buf.String())
		}
	})
	return r
}

// waitListening waits until srv serves on every one of addrs.
func waitListening(t *testing.T, srv *Server, addrs ...net.Addr) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, a := range addrs {
		ap := a.(*net.TCPAddr).AddrPort()
		for !srv.id.ownAddr(ap) {
			if time.Now().After(deadline) {
				t.Fatalf("relay not serving on %s after 5s", a)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// checkGoroutines fails the test if goroutines started by it are still
// running after a grace period. Call it first: cleanups run last-first, so
// the check runs after every other cleanup closed its connections.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// client is a minimal MSRP endpoint for tests.
type client struct {
	t      *testing.T
	conn   *transport.Conn
	uri    string // own URI (From-Path)
	via    string // the relay base URI it AUTHs to
	use    string // Use-Path after AUTH
	msgs   chan *msrp.Message
	closed chan struct{}
	stop   chan struct{}
}

// clients is the transport of the tests' clients: one Host dials them
// all, without keepalive.
var clients = func() *transport.Host {
	h, err := transport.New(transport.Config{Keepalive: keepalive.Config{Interval: -1}})
	if err != nil {
		panic(err)
	}
	return h
}()

// dialTarget dials target through clients.
func dialTarget(ctx context.Context, target string, opts transport.DialOptions) (*transport.Conn, error) {
	tg, err := transport.ParseTarget(target)
	if err != nil {
		return nil, err
	}
	return clients.Dial(ctx, tg, opts)
}

func dialClient(t *testing.T, target, via string) *client {
	t.Helper()
	return dialClientWith(t, target, via, transport.DialOptions{})
}

func dialClientWith(t *testing.T, target, via string, opts transport.DialOptions) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := dialTarget(ctx, target, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", target, err)
	}
	tr := "tcp"
	if strings.HasPrefix(target, "ws") {
		tr = "ws"
	}
	c := &client{
		t:      t,
		conn:   conn,
		uri:    fmt.Sprintf("msrp://%s.invalid:2855/%s;%s", msrp.NewTransactionID(), msrp.NewTransactionID(), tr),
		via:    via,
		msgs:   make(chan *msrp.Message, 64),
		closed: make(chan struct{}),
		stop:   make(chan struct{}),
	}
	go c.readLoop()
	t.Cleanup(func() {
		close(c.stop)
		c.conn.Close(transport.ReasonShutdown, "test over")
		<-c.closed
	})
	return c
}

// readLoop reassembles frames into whole messages (bodies copied, since
// frames may alias the transport's buffer).
func (c *client) readLoop() {
	defer close(c.closed)
	var cur *msrp.Message
	for {
		f, err := c.conn.Read()
		if err != nil {
			close(c.msgs)
			return
		}
		if f.Err != nil {
			c.t.Logf("client read: %v", f.Err)
			continue
		}
		if cur == nil || f.Offset == 0 {
			cur = f.Msg.Clone()
			if f.Msg.Body != nil {
				cur.Body = append([]byte{}, f.Msg.Body...)
			}
		} else {
			cur.Body = append(cur.Body, f.Msg.Body...)
		}
		if f.Last {
			cur.Flag = f.Msg.Flag
			select {
			case c.msgs <- cur:
			case <-c.stop:
				return
			}
			cur = nil
		}
	}
}

// next returns the next message, failing the test after d.
func (c *client) next(d time.Duration) *msrp.Message {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("connection closed (%v) while waiting for a message", c.conn.Reason())
		}
		return m
	case <-time.After(d):
		c.t.Fatalf("no message within %v", d)
	}
	return nil
}

// expectClosed waits for the relay to close the connection.
func (c *client) expectClosed(d time.Duration) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				return
			}
		case <-timeout:
			c.t.Fatalf("connection still open after %v", d)
		}
	}
}

func (c *client) send(m *msrp.Message) {
	c.t.Helper()
	if err := c.conn.Send(m); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func request(method, to, from string, extra ...string) *msrp.Message {
	m := &msrp.Message{
		TransactionID: msrp.NewTransactionID(),
		Method:        method,
		Headers:       []msrp.Header{{Name: "To-Path", Value: to}, {Name: "From-Path", Value: from}},
		Flag:          '$',
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m.Headers = append(m.Headers, msrp.Header{Name: extra[i], Value: extra[i+1]})
	}
	return m
}

// authRequest builds an AUTH; with a challenge it carries credentials.
func (c *client) authRequest(user, pass string, challenge map[string]string, nc int, extra ...string) *msrp.Message {
	m := request("AUTH", c.via, c.uri, extra...)
	if challenge != nil {
		m.Headers = append(m.Headers, msrp.Header{Name: "Authorization", Value: digestAuthorization(user, pass, challenge, c.via, "AUTH", nc)})
	}
	return m
}

// digestAuthorization answers the challenge ch as a client does. A
// challenge without a nonce gets credentials without a response, which
// the relay refuses.
func digestAuthorization(user, pass string, ch map[string]string, uri, method string, nc int) string {
	c, err := digest.Answer(ch, user, pass, method, uri, nc, msrp.NewTransactionID())
	if err != nil {
		return `Digest username="` + user + `"`
	}
	return c.Header
}

// auth runs the AUTH exchange and stores the Use-Path.
func (c *client) auth(user, pass string) *msrp.Message {
	c.t.Helper()
	c.send(c.authRequest("", "", nil, 0))
	r := c.next(5 * time.Second)
	if r.StatusCode != 401 {
		c.t.Fatalf("AUTH without credentials: %d, want 401", r.StatusCode)
	}
	ch, err := digest.Parse(r.WWWAuthenticate())
	if err != nil {
		c.t.Fatalf("challenge %q: %v", r.WWWAuthenticate(), err)
	}
	c.send(c.authRequest(user, pass, ch, 1))
	r = c.next(5 * time.Second)
	if r.StatusCode != 200 {
		c.t.Fatalf("AUTH: %d %s, want 200", r.StatusCode, r.Comment)
	}
	c.use = r.Header("Use-Path")
	return r
}

// sendText sends one SEND to path and returns it.
func (c *client) sendText(to string, body []byte, extra ...string) *msrp.Message {
	c.t.Helper()
	m := request("SEND", to, c.uri, append([]string{
		"Message-ID", msrp.NewMessageID(),
		"Byte-Range", fmt.Sprintf("1-%d/%d", len(body), len(body)),
		"Content-Type", "text/plain"}, extra...)...)
	m.Body = body
	c.send(m)
	return m
}

// pathTo is the To-Path from c to d when both use this relay.
func pathTo(c, d *client) string { return c.use + " " + d.use + " " + d.uri }

var errTimeout = errors.New("timeout")

// testCredentials knows the two users of the tests.
func testCredentials() *MemoryCredentials {
	creds := NewMemoryCredentials()
	creds.Add(relayUser, relayRealm, relayPass)
	creds.Add("bob", relayRealm, "secret-bob")
	return creds
}
