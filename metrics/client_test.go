package metrics

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

const realm = "metrics.test"

// testRelay is a relay on loopback with a TCP and a WebSocket listener.
type testRelay struct {
	srv     *relay.Server
	tcp, ws string // host:port
}

func startRelay(t *testing.T, mutate func(*relay.Config)) *testRelay {
	t.Helper()
	creds := relay.NewMemoryCredentials()
	creds.Add("alice", realm, "alicepw")
	creds.Add("bob", realm, "bobpw")
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := relay.Config{
		Host: "127.0.0.1", Port: tl.Addr().(*net.TCPAddr).Port, Realm: realm, Credentials: creds,
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: testWriter{t}, DefaultLogLevel: logging.LogLevelInfo},
		Transport:     transport.Config{Keepalive: keepalive.Config{Interval: -1}},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { srv.ServeTCP(tl); done <- struct{}{} }()
	go func() { srv.ServeWebSocket(wl, false); done <- struct{}{} }()
	t.Cleanup(func() {
		srv.Close()
		<-done
		<-done
	})
	return &testRelay{srv: srv, tcp: tl.Addr().String(), ws: wl.Addr().String()}
}

// testWriter sends the relay's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client is an MSRP endpoint for the tests, over transport.Dial.
type client struct {
	t    *testing.T
	conn *transport.Conn
	via  string // the relay URI its AUTH goes to
	uri  string // its own URI
	use  string // its Use-Path after AUTH
	msgs chan *msrp.Message
	// silent clients leave the relay's keepalive probes unanswered.
	silent bool
}

// dial connects to the relay over kind ("tcp" or "ws").
func (r *testRelay) dial(t *testing.T, kind string) *client { return r.dialWith(t, kind, false) }

// dialWith connects a client that may be silent.
func (r *testRelay) dialWith(t *testing.T, kind string, silent bool) *client {
	t.Helper()
	target, via := "tcp://"+r.tcp, "msrp://"+r.tcp+";tcp"
	if kind == "ws" {
		target, via = "ws://"+r.ws+"/", "msrp://"+r.ws+";ws"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, target, transport.Config{Keepalive: keepalive.Config{Interval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, via: via, msgs: make(chan *msrp.Message, 64), silent: silent,
		uri: fmt.Sprintf("msrp://%s.invalid:2855/%s;%s", msrp.NewTransactionID(), msrp.NewTransactionID(), kind)}
	go c.readLoop()
	t.Cleanup(func() { conn.Close(transport.ReasonLocal, "test over") })
	return c
}

// readLoop passes up whole messages, and answers the relay's keepalive
// probes (bodiless SENDs) unless the client is silent.
func (c *client) readLoop() {
	defer close(c.msgs)
	var cur *msrp.Message
	for {
		f, err := c.conn.Read()
		if err != nil {
			return
		}
		if f.Err != nil {
			continue
		}
		if cur == nil || f.Offset == 0 {
			cur = f.Msg.Clone()
			cur.Body = append([]byte(nil), f.Msg.Body...)
		} else {
			cur.Body = append(cur.Body, f.Msg.Body...)
		}
		if f.Last {
			cur.Flag = f.Msg.Flag
			if cur.Method == msrp.MethodSEND && cur.Body == nil && !c.silent {
				// The relay's keepalive probe, should it come.
				c.conn.Send(cur.Response(200, "OK"))
			} else {
				c.msgs <- cur
			}
			cur = nil
		}
	}
}

func (c *client) next() *msrp.Message {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("connection closed (%v)", c.conn.Reason())
		}
		return m
	case <-time.After(5 * time.Second):
		c.t.Fatal("no message within 5s")
	}
	return nil
}

func (c *client) send(m *msrp.Message) {
	c.t.Helper()
	if err := c.conn.Send(m); err != nil {
		c.t.Fatal(err)
	}
}

func request(method, to, from string, hdrs ...string) *msrp.Message {
	m := &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: method, Flag: msrp.FlagComplete,
		Headers: []msrp.Header{{Name: "To-Path", Value: to}, {Name: "From-Path", Value: from}}}
	for i := 0; i+1 < len(hdrs); i += 2 {
		m.Headers = append(m.Headers, msrp.Header{Name: hdrs[i], Value: hdrs[i+1]})
	}
	return m
}

var digestParam = regexp.MustCompile(`(\w+)="?([^",]*)"?`)

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// auth runs the AUTH exchange and returns the final response's status.
func (c *client) auth(user, pass string) int {
	c.t.Helper()
	c.send(request("AUTH", c.via, c.uri))
	r := c.next()
	ch := map[string]string{}
	for _, m := range digestParam.FindAllStringSubmatch(r.WWWAuthenticate(), -1) {
		ch[m[1]] = m[2]
	}
	resp := md5hex(md5hex(user+":"+ch["realm"]+":"+pass) + ":" + ch["nonce"] + ":00000001:c0ffee:auth:" + md5hex("AUTH:"+c.via))
	c.send(request("AUTH", c.via, c.uri, "Authorization", fmt.Sprintf(
		`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", qop=auth, nc=00000001, cnonce="c0ffee", opaque="%s"`,
		user, ch["realm"], ch["nonce"], c.via, resp, ch["opaque"])))
	r = c.next()
	c.use = r.Header("Use-Path")
	return r.StatusCode
}

// sendText sends text to d through the relay, has d answer it, and
// waits for the relay's 200.
func (c *client) chat(d *client, text string) {
	c.t.Helper()
	m := request("SEND", c.use+" "+d.use+" "+d.uri, c.uri, "Message-ID", msrp.NewMessageID(),
		"Byte-Range", fmt.Sprintf("1-%d/%d", len(text), len(text)), "Content-Type", "text/plain")
	m.Body = []byte(text)
	c.send(m)
	got := d.next()
	if got.Method != "SEND" || string(got.Body) != text {
		c.t.Fatalf("received %s %q, want SEND %q", got.Method, got.Body, text)
	}
	d.send(got.Response(200, "OK"))
	if r := c.next(); r.StatusCode != 200 {
		c.t.Fatalf("sender got %d", r.StatusCode)
	}
}

// refusedHandshake asks the WebSocket listener for an upgrade without
// the msrp subprotocol and returns the HTTP status.
func refusedHandshake(t *testing.T, addr string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
