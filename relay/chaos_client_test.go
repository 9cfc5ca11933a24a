package relay

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/internal/faultproxy"
	"github.com/msrpd/msrpd/msrp"
)

// chaosClient is a raw MSRP client for the chaos test: it writes chunks in
// parts (so it can die between them), answers the relay's keepalive probes,
// and can be killed abruptly or blackholed through its own faultproxy.
type chaosClient struct {
	kind string // "tcp" or "ws"
	nc   net.Conn
	ws   *websocket.Conn
	px   *faultproxy.Proxy // nil unless dialled through a proxy

	wmu sync.Mutex // one chunk at a time
	uri string     // own URI
	use string     // Use-Path

	in     chan *msrp.Message // every message but answered probes
	done   chan struct{}      // closed when the reader stops
	killed atomic.Bool
	closer sync.Once
}

var errKilled = errors.New("chaos: client killed")

// dialChaos connects to addr (host:port of a TCP or WebSocket listener
// whose base URI is relayURI), through a new faultproxy when viaProxy, and
// authenticates as user.
func dialChaos(kind, addr, relayURI, user, pass string, viaProxy bool) (*chaosClient, error) {
	c := &chaosClient{kind: kind, in: make(chan *msrp.Message, 256), done: make(chan struct{})}
	c.uri = fmt.Sprintf("msrp://%s.invalid:2855/%s;%s", msrp.NewTransactionID(), msrp.NewTransactionID(), kind)
	if viaProxy {
		px, err := faultproxy.New(addr)
		if err != nil {
			return nil, err
		}
		c.px, addr = px, px.Addr()
	}
	var err error
	if kind == "ws" {
		d := websocket.Dialer{Subprotocols: []string{"msrp"}, HandshakeTimeout: 5 * time.Second,
			WriteBufferSize: 1024} // a chunk leaves in many frames: kills fall between them
		c.ws, _, err = d.Dial("ws://"+addr+"/", nil)
		if err == nil {
			c.nc = c.ws.UnderlyingConn()
		}
	} else {
		c.nc, err = net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			c.nc.(*net.TCPConn).SetNoDelay(true)
		}
	}
	if err != nil {
		c.closeProxy()
		return nil, err
	}
	go c.read()
	if err := c.auth(relayURI, user, pass); err != nil {
		c.close()
		return nil, fmt.Errorf("AUTH as %s: %w", user, err)
	}
	return c, nil
}

// read delivers incoming messages and answers the relay's bodiless SEND
// probes at once, as a live client does.
func (c *chaosClient) read() {
	defer close(c.done)
	var rd *msrp.Reader
	if c.ws == nil {
		rd = msrp.NewReader(c.nc, 0)
	}
	for {
		var m *msrp.Message
		var err error
		if c.ws != nil {
			var b []byte
			if _, b, err = c.ws.ReadMessage(); err == nil {
				m, err = msrp.Parse(b, 0)
			}
		} else {
			m, err = rd.ReadMessage(0)
		}
		if err != nil {
			return
		}
		if m.Method == msrp.MethodSEND && m.Body == nil && m.Header(msrp.HeaderToPath) == c.uri {
			_ = c.write(m.Response(200, "OK"))
			continue
		}
		select {
		case c.in <- m:
		case <-time.After(10 * time.Second):
			return // nobody reads: the test is over
		}
	}
}

func (c *chaosClient) auth(relayURI, user, pass string) error {
	m := request("AUTH", relayURI, c.uri)
	resp, err := c.roundTrip(m)
	if err != nil {
		return err
	}
	ch, err := digest.Parse(resp.WWWAuthenticate())
	if err != nil {
		return fmt.Errorf("challenge %d %q: %w", resp.StatusCode, resp.WWWAuthenticate(), err)
	}
	m = request("AUTH", relayURI, c.uri, "Authorization", digestAuthorization(user, pass, ch, relayURI, "AUTH", 1))
	if resp, err = c.roundTrip(m); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%d %s", resp.StatusCode, resp.Comment)
	}
	c.use = resp.Header(msrp.HeaderUsePath)
	return nil
}

func (c *chaosClient) roundTrip(m *msrp.Message) (*msrp.Message, error) {
	if err := c.write(m); err != nil {
		return nil, err
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case r := <-c.in:
			if !r.IsRequest() && r.TransactionID == m.TransactionID {
				return r, nil
			}
		case <-c.done:
			return nil, errors.New("connection closed")
		case <-deadline:
			return nil, errors.New("no response")
		}
	}
}

// write sends m whole.
func (c *chaosClient) write(m *msrp.Message) error {
	b, err := m.AppendTo(nil)
	if err != nil {
		return err
	}
	return c.writeParts([][]byte{b}, nil)
}

// writeParts sends one chunk in parts, calling pause between them: over
// TCP as separate segments, over WebSocket as one message in frames.
func (c *chaosClient) writeParts(parts [][]byte, pause func()) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.killed.Load() {
		return errKilled
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if c.ws != nil {
		w, err := c.ws.NextWriter(websocket.TextMessage)
		if err != nil {
			return err
		}
		for i, p := range parts {
			if i > 0 && pause != nil {
				pause()
			}
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		return w.Close()
	}
	for i, p := range parts {
		if i > 0 && pause != nil {
			pause()
		}
		if _, err := c.nc.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// kill ends the client the way a network does: an abrupt close (a reset
// for TCP), or, through a proxy, a blackhole that leaves the relay's
// socket open and silent until its keepalive gives up. It does not wait
// for the writer: a chunk may be half written.
func (c *chaosClient) kill(blackhole bool) {
	c.killed.Store(true)
	if blackhole && c.px != nil {
		c.px.Blackhole(faultproxy.Both)
		return
	}
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
}

// alive reports whether the client was neither killed nor disconnected.
func (c *chaosClient) alive() bool {
	if c.killed.Load() {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// close releases the client's socket and proxy and waits for its reader.
func (c *chaosClient) close() {
	c.closer.Do(func() {
		_ = c.nc.Close()
		<-c.done
		c.closeProxy()
	})
}

func (c *chaosClient) closeProxy() {
	if c.px != nil {
		_ = c.px.Close()
	}
}

// pathTo is the To-Path from c to d, each on its own relay (or the same).
func (c *chaosClient) pathTo(d *chaosClient) string {
	return strings.Join([]string{c.use, d.use, d.uri}, " ")
}
