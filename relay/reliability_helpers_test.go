package relay

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/internal/faultproxy"
	"github.com/msrpd/msrpd/msrp"
)

// Helpers for the reliability_* tests: fault proxies, load generators that
// account for every chunk, and raw clients that send bytes the transport's
// own writer would refuse to produce.

// knownBug reports a failure caused by a bug described in RELIABILITY.md
// ("open findings", id). It skips the test, so that `go test` stays green
// while the bug is open, unless MSRPD_RUN_BUGS=1 asks to see it fail.
func knownBug(t *testing.T, id, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf("BUG %s (see RELIABILITY.md): ", id) + fmt.Sprintf(format, args...)
	if os.Getenv("MSRPD_RUN_BUGS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// hostPort strips the scheme and trailing slash of a test relay address
// ("tcp://h:p", "ws://h:p/").
func hostPort(addr string) string {
	_, rest, _ := strings.Cut(addr, "://")
	return strings.TrimSuffix(rest, "/")
}

// newFaultProxy starts a fault proxy in front of target (a test relay
// address such as r.ws) and closes it at the end of the test.
func newFaultProxy(t *testing.T, target string, bufSize int) *faultproxy.Proxy {
	t.Helper()
	px, err := faultproxy.New(hostPort(target))
	if err != nil {
		t.Fatal(err)
	}
	px.SetBufferSize(bufSize)
	t.Cleanup(func() { px.Close() })
	return px
}

// peerAddrs lists the remote addresses of the relay's connections.
func peerAddrs(s *Server) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for p := range s.peers {
		out[p.addr] = true
	}
	return out
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// outcome is what became of one chunk a loadSender sent.
type outcome struct {
	msgID, tid string
	code       int // the relay's response to the SEND (0: none)
	report     int // status of a failure REPORT for it (0: none)
}

// loadSender sends SENDs of size bytes from c along to, one Message-ID per
// chunk, and records every response and REPORT it gets back.
type loadSender struct {
	c        *client
	to       string
	size     int
	window   int // most chunks without a response; 0 = no limit
	sentB    atomic.Int64
	mu       sync.Mutex
	chunks   []*outcome
	byTID    map[string]*outcome
	byMsgID  map[string]*outcome
	other    []string // anything unexpected
	answered chan struct{}
	stop     chan struct{}
	done     chan struct{} // the writer stopped
	rdone    chan struct{} // the reader stopped
	sendErr  error
}

func startLoad(c *client, to string, size, window int) *loadSender {
	s := &loadSender{c: c, to: to, size: size, window: window,
		byTID: map[string]*outcome{}, byMsgID: map[string]*outcome{},
		answered: make(chan struct{}, 1<<16), stop: make(chan struct{}),
		done: make(chan struct{}), rdone: make(chan struct{})}
	go s.read()
	go s.write()
	return s
}

func (s *loadSender) write() {
	defer close(s.done)
	body := []byte(strings.Repeat("0123456789abcdef", s.size/16+1)[:s.size])
	outstanding := 0
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		if s.window > 0 {
			for outstanding >= s.window {
				select {
				case <-s.answered:
					outstanding--
				case <-s.stop:
					return
				case <-s.c.closed:
					return
				}
			}
		}
		o := &outcome{msgID: msrp.NewMessageID()}
		m := request("SEND", s.to, s.c.uri, "Message-ID", o.msgID,
			"Byte-Range", fmt.Sprintf("1-%d/%d", len(body), len(body)), "Content-Type", "text/plain")
		m.Body = body
		o.tid = m.TransactionID
		s.mu.Lock()
		s.byTID[o.tid], s.byMsgID[o.msgID] = o, o
		s.mu.Unlock()
		if err := s.c.conn.Send(m); err != nil {
			s.mu.Lock()
			delete(s.byTID, o.tid)
			delete(s.byMsgID, o.msgID)
			s.sendErr = err
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.chunks = append(s.chunks, o)
		s.mu.Unlock()
		s.sentB.Add(int64(len(body)))
		outstanding++
	}
}

func (s *loadSender) read() {
	defer close(s.rdone)
	for {
		m, ok := nextOrClosed(s.c)
		if !ok {
			return
		}
		s.mu.Lock()
		switch {
		case !m.IsRequest():
			if o := s.byTID[m.TransactionID]; o != nil && o.code == 0 {
				o.code = m.StatusCode
				select {
				case s.answered <- struct{}{}:
				default:
				}
			} else {
				s.other = append(s.other, fmt.Sprintf("response %d to %s", m.StatusCode, m.TransactionID))
			}
		case m.Method == "REPORT":
			st, err := m.Status()
			if o := s.byMsgID[m.MessageID()]; o != nil && err == nil && st.Code != 200 {
				o.report = st.Code
			} else {
				s.other = append(s.other, fmt.Sprintf("REPORT %q for %s", m.Header("Status"), m.MessageID()))
			}
		default:
			s.other = append(s.other, "request "+m.Method)
		}
		s.mu.Unlock()
	}
}

// nextOrClosed returns c's next message, or false once its reader ended
// and every message it had queued was taken.
func nextOrClosed(c *client) (*msrp.Message, bool) {
	select {
	case m, ok := <-c.msgs:
		return m, ok
	case <-c.closed:
		select {
		case m, ok := <-c.msgs:
			return m, ok
		default:
			return nil, false
		}
	}
}

// halt stops the writer and waits for it; a writer blocked in Send waits
// for the peer (or its WriteTimeout).
func (s *loadSender) halt() {
	s.signal()
	<-s.done
}

// signal tells the writer to stop without waiting for it.
func (s *loadSender) signal() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}

// snapshot copies the outcomes so far.
func (s *loadSender) snapshot() []outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]outcome, len(s.chunks))
	for i, o := range s.chunks {
		out[i] = *o
	}
	return out
}

// loadReceiver answers every SEND c receives with 200 (unless silent) and
// records the Message-IDs and body bytes.
type loadReceiver struct {
	c      *client
	silent atomic.Bool
	mu     sync.Mutex
	got    map[string]int
	flags  map[string]byte // the last chunk's flag, by Message-ID
	bytes  atomic.Int64
	n      atomic.Int64
	done   chan struct{}
}

func startReceiver(c *client) *loadReceiver {
	r := &loadReceiver{c: c, got: map[string]int{}, flags: map[string]byte{}, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			m, ok := nextOrClosed(c)
			if !ok {
				return
			}
			if m.Method != "SEND" {
				continue
			}
			r.mu.Lock()
			id := strings.Clone(m.MessageID()) // not the whole header block
			r.got[id]++
			r.flags[id] = m.Flag
			r.mu.Unlock()
			r.bytes.Add(int64(len(m.Body)))
			r.n.Add(1)
			if !r.silent.Load() {
				_ = c.conn.Send(m.Response(200, "OK"))
			}
		}
	}()
	return r
}

// flag returns the flag of the last chunk received for msgID (0: none).
func (r *loadReceiver) flag(msgID string) byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flags[msgID]
}

func (r *loadReceiver) has(msgID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[msgID] > 0
}

// account sorts a sender's chunks: delivered (the receiver has it),
// failed (an error response or failure REPORT told the sender),
// unacknowledged (no response at all: the sender knows nothing was
// accepted), and lost (the relay answered 200 but the chunk neither
// arrived nor was reported: a silent loss).
type account struct{ sent, delivered, failed, unacked, lost int }

func (a account) String() string {
	return fmt.Sprintf("sent %d: delivered %d, failed explicitly %d, unacknowledged %d, lost %d",
		a.sent, a.delivered, a.failed, a.unacked, a.lost)
}

func settle(s *loadSender, r *loadReceiver) (account, []outcome) {
	var a account
	var lost []outcome
	for _, o := range s.snapshot() {
		a.sent++
		switch {
		case r.has(o.msgID):
			a.delivered++
		case o.report != 0 || o.code != 0 && o.code != 200:
			a.failed++
		case o.code == 0:
			a.unacked++
		default:
			a.lost++
			lost = append(lost, o)
		}
	}
	return a, lost
}

// rawClient speaks MSRP over a raw TCP socket or a gorilla WebSocket, so
// tests can send bytes that are not valid MSRP.
type rawClient struct {
	t    testing.TB
	kind string // "tcp" or "ws"
	nc   net.Conn
	br   *msrp.Reader
	ws   *websocket.Conn
	// wsIn carries the WebSocket reader goroutine's results: gorilla's
	// Conn is unusable after a read deadline, so reads never time out.
	wsIn chan wsRead
	uri  string // own URI
	via  string // relay base URI
	use  string // Use-Path after auth
}

func dialRaw(t *testing.T, r *testRelay, kind string) *rawClient {
	t.Helper()
	if kind == "tcp" {
		return dialRawTCP(t, hostPort(r.tcp), r.uri)
	}
	// A write buffer as large as the corpus's biggest case: each message
	// goes in one frame, as browsers send them.
	c, resp, err := dialRawWS(t, r, websocket.Dialer{Subprotocols: []string{"msrp"}, WriteBufferSize: 256 << 10}, nil)
	if err != nil {
		t.Fatalf("WebSocket dial: %v (%v)", err, resp)
	}
	return c
}

// dialRawWS opens a WebSocket to r with dialer d and header h, returning
// the handshake response for refused dials.
func dialRawWS(t *testing.T, r *testRelay, d websocket.Dialer, h http.Header) (*rawClient, *http.Response, error) {
	t.Helper()
	d.HandshakeTimeout = 5 * time.Second
	ws, resp, err := d.Dial(r.ws, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, resp, err
	}
	c := &rawClient{t: t, kind: "ws", ws: ws, nc: ws.UnderlyingConn(), via: r.wsURI}
	c.wsIn = make(chan wsRead, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			typ, b, err := ws.ReadMessage()
			c.wsIn <- wsRead{typ, b, err}
			if err != nil {
				return
			}
		}
	}()
	c.uri = fmt.Sprintf("msrp://%s.invalid:2855/%s;ws", msrp.NewTransactionID(), msrp.NewTransactionID())
	t.Cleanup(func() { ws.Close(); <-done })
	return c, resp, nil
}

// dialRawTCP connects to a relay's TCP listener at addr (host:port) whose
// base URI is via.
func dialRawTCP(t testing.TB, addr, via string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, kind: "tcp", nc: nc, br: msrp.NewReader(nc, 0), via: via}
	c.uri = fmt.Sprintf("msrp://%s.invalid:2855/%s;tcp", msrp.NewTransactionID(), msrp.NewTransactionID())
	t.Cleanup(func() { c.nc.Close() })
	return c
}

type wsRead struct {
	typ int
	b   []byte
	err error
}

// writeRaw sends b: as is on TCP, as one text message on WebSocket.
func (c *rawClient) writeRaw(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if c.ws != nil {
		return c.ws.WriteMessage(websocket.TextMessage, b)
	}
	_, err := c.nc.Write(b)
	return err
}

func (c *rawClient) writeMsg(m *msrp.Message) {
	c.t.Helper()
	b, err := m.AppendTo(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.writeRaw(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next message within d; io.EOF (or a WebSocket close
// error) once the relay closed the connection, errTimeout after d.
func (c *rawClient) read(d time.Duration) (*msrp.Message, error) {
	var m *msrp.Message
	var err error
	if c.ws != nil {
		select {
		case in := <-c.wsIn:
			if err = in.err; err == nil {
				m, err = msrp.Parse(in.b, 0)
			} else {
				c.wsIn <- in // stays closed for later reads
			}
		case <-time.After(d):
			return nil, errTimeout
		}
	} else {
		c.nc.SetReadDeadline(time.Now().Add(d))
		m, err = c.br.ReadMessage(0)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, errTimeout
	}
	return m, err
}

// closedErr reports whether err means the relay closed the connection.
func closedErr(err error) bool {
	var ce *websocket.CloseError
	var pe *msrp.ParseError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ce) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &pe) && pe.Fatal ||
		err != nil && (strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "broken pipe"))
}

// readUntilClosed skips messages until the relay closes the connection and
// fails the test if it stays open for d.
func (c *rawClient) readUntilClosed(d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, err := c.read(time.Until(deadline))
		if err == errTimeout || time.Now().After(deadline) {
			c.t.Fatalf("connection still open after %v", d)
		}
		if err != nil && closedErr(err) {
			return
		}
	}
}

// expectResponse reads until a response to tid arrives (skipping
// requests such as keepalive probes) and returns it.
func (c *rawClient) expectResponse(tid string, d time.Duration) (*msrp.Message, error) {
	deadline := time.Now().Add(d)
	for {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			return nil, err
		}
		if !m.IsRequest() && m.TransactionID == tid {
			return m, nil
		}
	}
}

// auth authenticates with the relay and stores the Use-Path.
func (c *rawClient) auth(user, pass string) {
	c.t.Helper()
	m := request("AUTH", c.via, c.uri)
	c.writeMsg(m)
	resp, err := c.expectResponse(m.TransactionID, 5*time.Second)
	if err != nil || resp.StatusCode != 401 {
		c.t.Fatalf("AUTH: %v %v, want 401", resp, err)
	}
	ch, err := digest.Parse(resp.WWWAuthenticate())
	if err != nil {
		c.t.Fatal(err)
	}
	m = request("AUTH", c.via, c.uri, "Authorization", digestAuthorization(user, pass, ch, c.via, "AUTH", 1))
	c.writeMsg(m)
	resp, err = c.expectResponse(m.TransactionID, 5*time.Second)
	if err != nil || resp.StatusCode != 200 {
		c.t.Fatalf("AUTH with credentials: %v %v, want 200", resp, err)
	}
	c.use = resp.Header("Use-Path")
}

// alive checks that the connection still works: a bodiless SEND to the
// relay gets its 200.
func (c *rawClient) alive() error {
	to := c.use
	if to == "" {
		to = c.via
	}
	m := request("SEND", to, c.uri, "Message-ID", "alive")
	b, _ := m.AppendTo(nil)
	if err := c.writeRaw(b); err != nil {
		return err
	}
	resp, err := c.expectResponse(m.TransactionID, 5*time.Second)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("keepalive SEND got %d", resp.StatusCode)
	}
	return nil
}

// localAddr is the client's address as the relay sees it.
func (c *rawClient) localAddr() string { return c.nc.LocalAddr().String() }
