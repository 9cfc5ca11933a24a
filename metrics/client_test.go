package metrics

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/internal/relaytest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

// testRelay is a relay on loopback (relaytest) and the transport Host
// its test clients dial through.
type testRelay struct {
	*relaytest.Relay
	srv     *relay.Server
	tcp, ws string // host:port
	clients *transport.Host
}

func startRelay(t *testing.T, mutate func(*relay.Config)) *testRelay {
	t.Helper()
	r := relaytest.Start(t, relaytest.Options{Config: mutate})
	h, err := transport.New(transport.Config{Keepalive: keepalive.Config{Interval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return &testRelay{Relay: r, srv: r.Server, tcp: r.TCPAddr, ws: r.WSAddr, clients: h}
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
	tg, err := transport.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := r.clients.Dial(ctx, tg, transport.DialOptions{})
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

// auth runs the AUTH exchange and returns the final response's status.
func (c *client) auth(user, pass string) int {
	c.t.Helper()
	c.send(request("AUTH", c.via, c.uri))
	ch, err := digest.Parse(c.next().WWWAuthenticate())
	if err != nil {
		c.t.Fatal(err)
	}
	cred, err := digest.Answer(ch, user, pass, "AUTH", c.via, 1, "c0ffee")
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(request("AUTH", c.via, c.uri, "Authorization", cred.Header))
	r := c.next()
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

// handshake asks the WebSocket listener for an upgrade offering
// subprotocol (none if "") from origin (none if "") and returns the HTTP
// status.
func handshake(t *testing.T, addr, subprotocol, origin string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	if subprotocol != "" {
		req.Header.Set("Sec-WebSocket-Protocol", subprotocol)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
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
