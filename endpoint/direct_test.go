package endpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

// newTestListener starts a Listener on a free loopback port.
func newTestListener(t *testing.T, buf *syncBuffer) *Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := NewListener(l, ListenerConfig{LoggerFactory: loggerFactory(buf),
		Keepalive: keepalive.Config{Interval: -1}, BindTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// openDirect makes a session without a relay on ln.
func openDirectSession(t *testing.T, ln *Listener, buf *syncBuffer) *Endpoint {
	t.Helper()
	e, err := Dial(context.Background(), Config{Listener: ln, LoggerFactory: loggerFactory(buf),
		Keepalive: keepalive.Config{Interval: -1}, ChunkTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.Close()
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return e
}

// connectPair runs Connect on both sides at once: a active, b passive.
func connectPair(t *testing.T, a, b *Endpoint) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- b.Connect(ctx, a.Path(), false) }()
	if err := a.Connect(ctx, b.Path(), true); err != nil {
		t.Fatalf("active Connect: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("passive Connect: %v", err)
	}
}

// exchange sends a message each way and a 64 KiB one from a to b.
func exchange(t *testing.T, a, b *Endpoint) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Send(ctx, a.Peer(), "text/plain", []byte("hello b")); err != nil {
		t.Fatalf("a->b: %v", err)
	}
	if m := next(t, b, 5*time.Second); string(m.Body) != "hello b" {
		t.Fatalf("b got %q", m.Body)
	}
	if err := b.SendWith(ctx, b.Peer(), "text/plain", []byte("hello a"), SendOptions{SuccessReport: true}); err != nil {
		t.Fatalf("b->a: %v", err)
	}
	if m := next(t, a, 5*time.Second); string(m.Body) != "hello a" {
		t.Fatalf("a got %q", m.Body)
	}
	big := make([]byte, 64<<10)
	_, _ = rand.Read(big)
	if err := a.Send(ctx, a.Peer(), "application/octet-stream", big); err != nil {
		t.Fatalf("a->b 64 KiB: %v", err)
	}
	if m := next(t, b, 5*time.Second); !bytes.Equal(m.Body, big) {
		t.Fatalf("b got %d bytes, want the %d sent", len(m.Body), len(big))
	}
}

// TestDirectSession: two sessions without a relay, each on its own
// Listener; the active one connects to the passive one's URI.
func TestDirectSession(t *testing.T) {
	checkGoroutines(t)
	bufA, bufB := &syncBuffer{}, &syncBuffer{}
	a := openDirectSession(t, newTestListener(t, bufA), bufA)
	b := openDirectSession(t, newTestListener(t, bufB), bufB)
	if strings.Contains(a.Path(), " ") || !strings.HasPrefix(a.Path(), "msrp://127.0.0.1:") {
		t.Fatalf("direct path %q: want one msrp://127.0.0.1 URI", a.Path())
	}
	connectPair(t, a, b)
	exchange(t, a, b)
	// The peer vanishing ends the session on the other side.
	_ = a.Close()
	select {
	case <-b.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("b did not notice a's connection closing")
	}
	if err := b.Send(context.Background(), b.Peer(), "text/plain", []byte("x")); err == nil {
		t.Fatal("send after the peer left succeeded")
	}
}

// TestDirectPassiveAnswersOnAcceptedConnection: the passive side answers
// over the connection the peer opened, whatever port the peer's own URI
// names (here 9, where nothing listens).
func TestDirectPassiveAnswersOnAcceptedConnection(t *testing.T) {
	checkGoroutines(t)
	buf := &syncBuffer{}
	b := openDirectSession(t, newTestListener(t, buf), buf)
	peerURI := "msrp://127.0.0.1:9/xyzzy123;tcp"
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc <- b.Connect(ctx, peerURI, false)
	}()
	c := rawDial(t, b.Path())
	sendRaw(t, c, &msrp.Message{TransactionID: "t1abc", Method: msrp.MethodSEND, Headers: []msrp.Header{
		{Name: msrp.HeaderToPath, Value: b.Path()}, {Name: msrp.HeaderFromPath, Value: peerURI},
		{Name: msrp.HeaderMessageID, Value: "m1"}, {Name: msrp.HeaderByteRange, Value: "1-0/0"}}, Flag: msrp.FlagComplete})
	if r := readResponse(t, c); r.StatusCode != 200 || r.TransactionID != "t1abc" {
		t.Fatalf("bind: %d %s, want 200 t1abc", r.StatusCode, r.TransactionID)
	}
	if err := <-errc; err != nil {
		t.Fatalf("passive Connect: %v", err)
	}
	// b's own message goes over the same connection.
	go func() { _ = b.Send(context.Background(), b.Peer(), "text/plain", []byte("back")) }()
	f, err := c.Read()
	if err != nil || !f.Msg.IsRequest() || string(f.Msg.Body) != "back" {
		t.Fatalf("read %v %+v, want b's SEND", err, f.Msg)
	}
	_ = c.Send(f.Msg.Response(200, "OK"))
}

// TestDirectRefusals: a first request for an unknown session gets 481,
// one from another peer than the SDP's 403, a second connection to a
// bound session 506; each is closed, and the session carries on.
func TestDirectRefusals(t *testing.T) {
	checkGoroutines(t)
	buf := &syncBuffer{}
	ln := newTestListener(t, buf)
	b := openDirectSession(t, ln, buf)
	peerURI := "msrp://127.0.0.1:9/peer1234;tcp"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- b.Connect(ctx, peerURI, false) }()
	time.Sleep(20 * time.Millisecond) // let Connect record the peer
	bodiless := func(to, from string) *msrp.Message {
		return &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: msrp.MethodSEND, Headers: []msrp.Header{
			{Name: msrp.HeaderToPath, Value: to}, {Name: msrp.HeaderFromPath, Value: from},
			{Name: msrp.HeaderMessageID, Value: "m1"}}, Flag: msrp.FlagComplete}
	}
	u, _ := msrp.ParseURI(b.Path())
	u.SessionID = "x" + u.SessionID
	gone := u.String()
	for _, tc := range []struct {
		name     string
		to, from string
		want     int
	}{
		{"unknown session", gone, peerURI, 481},
		{"other peer", b.Path(), "msrp://127.0.0.1:9/intruder;tcp", 403},
	} {
		c := rawDial(t, b.Path())
		sendRaw(t, c, bodiless(tc.to, tc.from))
		if r := readResponse(t, c); r.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.want)
		}
		if _, err := c.Read(); err == nil {
			t.Errorf("%s: connection still open", tc.name)
		}
	}
	c := rawDial(t, b.Path())
	sendRaw(t, c, bodiless(b.Path(), peerURI))
	if r := readResponse(t, c); r.StatusCode != 200 {
		t.Fatalf("the right peer: %d", r.StatusCode)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	c2 := rawDial(t, b.Path())
	sendRaw(t, c2, bodiless(b.Path(), peerURI))
	if r := readResponse(t, c2); r.StatusCode != 506 {
		t.Errorf("second connection: %d, want 506", r.StatusCode)
	}
	for _, want := range []string{"no such session", "does not match", "already bound"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestDirectConnectTimeouts: a passive session whose peer never comes,
// and an active one whose peer does not listen, fail within their bound.
func TestDirectConnectTimeouts(t *testing.T) {
	checkGoroutines(t)
	buf := &syncBuffer{}
	b := openDirectSession(t, newTestListener(t, buf), buf)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Connect(ctx, "msrp://127.0.0.1:9/nobody12;tcp", false); !errors.Is(err, ErrTimeout) {
		t.Errorf("passive Connect without peer: %v, want ErrTimeout", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	a := openDirectSession(t, newTestListener(t, buf), buf)
	err := a.Connect(context.Background(), "msrp://"+dead+"/nobody12;tcp", true)
	if err == nil || !strings.Contains(err.Error(), "connect to peer") {
		t.Errorf("active Connect to a closed port: %v", err)
	}
}

// TestDirectWithRelay: a session without a relay and one through msrpd,
// in both roles: the relay-less side connects to the relay when active,
// and the relay connects to it when it is passive.
func TestDirectWithRelay(t *testing.T) {
	checkGoroutines(t)
	// The relay dials the passive relay-less side: a plain msrp next hop
	// on loopback, which its default outbound policy refuses.
	r := newTestRelay(t, "", "", func(c *relay.Config) {
		c.Outbound = relay.OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}
	})
	for _, kind := range []string{"tcp", "ws"} {
		for _, directActive := range []bool{true, false} {
			name := kind + "-direct-passive"
			if directActive {
				name = kind + "-direct-active"
			}
			t.Run(name, func(t *testing.T) {
				buf := &syncBuffer{}
				d := openDirectSession(t, newTestListener(t, buf), buf)
				rl := dial(t, r.URL(kind), "alice", nil)
				if directActive {
					connectPair(t, d, rl)
				} else {
					connectPair(t, rl, d)
				}
				exchange(t, d, rl)
				exchange(t, rl, d)
			})
		}
	}
}

// rawHost dials the tests' raw connections, without keepalive.
var rawHost = func() *transport.Host {
	h, err := transport.New(transport.Config{Keepalive: keepalive.Config{Interval: -1}})
	if err != nil {
		panic(err)
	}
	return h
}()

func rawDial(t *testing.T, uri string) *transport.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	tg, err := transport.ParseTarget(uri)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rawHost.Dial(ctx, tg, transport.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(transport.ReasonLocal, "test done") })
	return c
}

func sendRaw(t *testing.T, c *transport.Conn, m *msrp.Message) {
	t.Helper()
	if err := c.Send(m); err != nil {
		t.Fatal(err)
	}
}

func readResponse(t *testing.T, c *transport.Conn) *msrp.Message {
	t.Helper()
	for {
		f, err := c.Read()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !f.Msg.IsRequest() {
			return f.Msg
		}
	}
}

// TestSendReader streams a body from an io.Reader, and a reader that
// fails midway aborts the message on both ends.
func TestSendReader(t *testing.T) {
	checkGoroutines(t)
	bufA, bufB := &syncBuffer{}, &syncBuffer{}
	a := openDirectSession(t, newTestListener(t, bufA), bufA)
	b := openDirectSession(t, newTestListener(t, bufB), bufB)
	connectPair(t, a, b)
	big := make([]byte, 1<<20+123)
	_, _ = rand.Read(big)
	errc := make(chan error, 1)
	a.SendReader(context.Background(), a.Peer(), "application/octet-stream", bytes.NewReader(big), int64(len(big)), SendOptions{}, func(err error) { errc <- err })
	if err := <-errc; err != nil {
		t.Fatalf("SendReader: %v", err)
	}
	if m := next(t, b, 5*time.Second); !bytes.Equal(m.Body, big) {
		t.Fatalf("b got %d bytes, want the %d sent", len(m.Body), len(big))
	}
	a.SendReader(context.Background(), a.Peer(), "application/octet-stream", bytes.NewReader(big[:5000]), int64(len(big)), SendOptions{}, func(err error) { errc <- err })
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "read body") {
		t.Fatalf("short reader: %v, want a read error", err)
	}
	// The aborted message is not delivered; the next one is.
	if err := a.Send(context.Background(), a.Peer(), "text/plain", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if m := next(t, b, 5*time.Second); string(m.Body) != "after" {
		t.Fatalf("b got %q after the aborted message", m.Body)
	}
}

// TestDirectRelayDialsBack: a session without a relay that connected to
// the peer's relay itself also takes a connection the relay opens to its
// Listener (a relay that does not answer over the connection we opened),
// and no other second connection.
func TestDirectRelayDialsBack(t *testing.T) {
	checkGoroutines(t)
	buf := &syncBuffer{}
	e := openDirectSession(t, newTestListener(t, buf), buf)
	fake, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	relayURI := "msrp://" + fake.Addr().String() + "/relaysess1;tcp"
	peerPath := relayURI + " msrp://127.0.0.1:9/peer1234;tcp"
	go func() {
		nc, err := fake.Accept()
		if err != nil {
			return
		}
		c := rawServe(t, nc)
		f, err := c.Read() // the bodiless SEND that binds the session
		if err == nil {
			_ = c.Send(f.Msg.Response(200, "OK"))
		}
		<-e.Done()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Connect(ctx, peerPath, true); err != nil {
		t.Fatal(err)
	}
	send := func(from, body string) *transport.Conn {
		c := rawDial(t, e.Path())
		sendRaw(t, c, &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: msrp.MethodSEND, Headers: []msrp.Header{
			{Name: msrp.HeaderToPath, Value: e.Path()}, {Name: msrp.HeaderFromPath, Value: from},
			{Name: msrp.HeaderMessageID, Value: msrp.NewMessageID()}, {Name: msrp.HeaderByteRange, Value: "1-" + strconv.Itoa(len(body)) + "/" + strconv.Itoa(len(body))},
			{Name: msrp.HeaderContentType, Value: "text/plain"}}, Body: []byte(body), Flag: msrp.FlagComplete})
		return c
	}
	c := send(peerPath, "via the relay's own connection")
	if r := readResponse(t, c); r.StatusCode != 200 {
		t.Fatalf("relay's connection: %d", r.StatusCode)
	}
	if m := next(t, e, 5*time.Second); string(m.Body) != "via the relay's own connection" {
		t.Fatalf("got %q", m.Body)
	}
	c2 := send("msrp://127.0.0.1:9/peer1234;tcp", "not via the relay")
	if r := readResponse(t, c2); r.StatusCode != 506 {
		t.Errorf("another second connection: %d, want 506", r.StatusCode)
	}
}

// rawServe wraps an accepted connection as a transport.Conn.
func rawServe(t *testing.T, nc net.Conn) *transport.Conn {
	t.Helper()
	done := make(chan *transport.Conn, 1)
	l := &oneConnListener{c: nc, done: make(chan struct{})}
	go func() {
		_ = rawHost.ServeStream(l, func(c *transport.Conn) {
			done <- c
			<-l.done
		})
	}()
	c := <-done
	t.Cleanup(func() { close(l.done); _ = c.Close(transport.ReasonLocal, "test done") })
	return c
}

// oneConnListener accepts one connection, then blocks until closed.
type oneConnListener struct {
	c    net.Conn
	done chan struct{}
	used bool
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if !l.used {
		l.used = true
		return l.c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}
func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

// textSEND is a one-chunk text message from one URI to another.
func textSEND(to, from, body string) *msrp.Message {
	n := strconv.Itoa(len(body))
	return &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: msrp.MethodSEND, Headers: []msrp.Header{
		{Name: msrp.HeaderToPath, Value: to}, {Name: msrp.HeaderFromPath, Value: from},
		{Name: msrp.HeaderMessageID, Value: msrp.NewMessageID()}, {Name: msrp.HeaderByteRange, Value: "1-" + n + "/" + n},
		{Name: msrp.HeaderContentType, Value: "text/plain"}}, Body: []byte(body), Flag: msrp.FlagComplete}
}

// TestDirectActiveBindThenPeerCloses: the passive peer answers the
// active side's bodiless SEND, sends a message (which the active side
// answers 200: it has it) and closes at once, as a caller with one line
// to send does. Connect must succeed and the message must be delivered,
// however late the goroutine in Connect gets to look at the bind's
// response: here only after the connection is gone. The bind once lost
// a coin toss between its response and the end of the connection and
// failed, and the session was dropped with a message the peer was told
// had arrived; the rounds make a coin toss fail the test.
func TestDirectActiveBindThenPeerCloses(t *testing.T) {
	checkGoroutines(t)
	for i := 0; i < 20; i++ {
		buf := &syncBuffer{}
		e := openDirectSession(t, newTestListener(t, buf), buf)
		peer, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		peerURI := "msrp://" + peer.Addr().String() + "/vanish" + strconv.Itoa(i) + ";tcp"
		served := make(chan struct{})
		go func() {
			defer close(served)
			nc, err := peer.Accept()
			if err != nil {
				return
			}
			c := rawServe(t, nc)
			f, err := c.Read() // the bodiless SEND
			if err != nil {
				return
			}
			_ = c.Send(textSEND(e.URI(), peerURI, "last words"))
			_ = c.Send(f.Msg.Response(200, "OK"))
			_ = c.Close(transport.ReasonLocal, "done")
		}()
		// Connect's goroutine sent the bodiless SEND and is slow to wait
		// for the answer: it looks only once the session has ended.
		testHookRoundTripSent = func() {
			select {
			case <-e.Done():
			case <-time.After(5 * time.Second):
				t.Error("the peer's close did not end the session")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = e.Connect(ctx, peerURI, true)
		cancel()
		testHookRoundTripSent = nil
		<-served
		peer.Close()
		if err != nil {
			t.Fatalf("round %d: Connect: %v", i, err)
		}
		if m := next(t, e, 5*time.Second); string(m.Body) != "last words" {
			t.Fatalf("round %d: got %q", i, m.Body)
		}
		_ = e.Close()
	}
}

// TestDirectPassiveBindThenPeerCloses: the active peer binds, sends a
// message, gets both 200s and closes, all before the passive side calls
// Connect (its SIP dialog may still wait for the ACK). Connect must
// succeed (the peer did come) and the message must be delivered.
func TestDirectPassiveBindThenPeerCloses(t *testing.T) {
	checkGoroutines(t)
	for i := 0; i < 20; i++ {
		buf := &syncBuffer{}
		b := openDirectSession(t, newTestListener(t, buf), buf)
		peerURI := "msrp://127.0.0.1:9/vanish" + strconv.Itoa(i) + ";tcp"
		c := rawDial(t, b.Path())
		sendRaw(t, c, &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: msrp.MethodSEND, Headers: []msrp.Header{
			{Name: msrp.HeaderToPath, Value: b.Path()}, {Name: msrp.HeaderFromPath, Value: peerURI},
			{Name: msrp.HeaderMessageID, Value: msrp.NewMessageID()}, {Name: msrp.HeaderByteRange, Value: "1-0/0"}}, Flag: msrp.FlagComplete})
		sendRaw(t, c, textSEND(b.Path(), peerURI, "last words"))
		for n := 0; n < 2; n++ {
			if r := readResponse(t, c); r.StatusCode != 200 {
				t.Fatalf("round %d: %d, want 200", i, r.StatusCode)
			}
		}
		_ = c.Close(transport.ReasonLocal, "done")
		select {
		case <-b.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the peer's close did not end the session")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := b.Connect(ctx, peerURI, false)
		cancel()
		if err != nil {
			t.Fatalf("round %d: passive Connect: %v", i, err)
		}
		if m := next(t, b, 5*time.Second); string(m.Body) != "last words" {
			t.Fatalf("round %d: got %q", i, m.Body)
		}
		_ = b.Close()
	}
}

// TestDirectSessionTLS: without a relay over TLS: Listeners with a
// certificate give msrps URIs, the active side verifies the passive
// side's certificate, and a session runs both ways. An active side that
// does not trust the certificate fails Connect, naming the handshake.
func TestDirectSessionTLS(t *testing.T) {
	checkGoroutines(t)
	ca := testpki.NewCA(t)
	leaf := ca.Issue("peer.test")
	tlsListener := func(buf *syncBuffer) *Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := NewListener(l, ListenerConfig{LoggerFactory: loggerFactory(buf), Keepalive: keepalive.Config{Interval: -1},
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{leaf.Cert}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		return ln
	}
	session := func(ln *Listener, buf *syncBuffer, roots *x509.CertPool) *Endpoint {
		e, err := Dial(context.Background(), Config{Listener: ln, LoggerFactory: loggerFactory(buf),
			Keepalive: keepalive.Config{Interval: -1}, ChunkTimeout: 5 * time.Second, TLSConfig: &tls.Config{RootCAs: roots}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = e.Close()
			if t.Failed() {
				t.Logf("log:\n%s", buf.String())
			}
		})
		return e
	}
	bufA, bufB := &syncBuffer{}, &syncBuffer{}
	a := session(tlsListener(bufA), bufA, ca.Pool)
	b := session(tlsListener(bufB), bufB, ca.Pool)
	if !strings.HasPrefix(b.Path(), "msrps://127.0.0.1:") {
		t.Fatalf("path %q: want an msrps URI", b.Path())
	}
	connectPair(t, a, b)
	exchange(t, a, b)

	bufC, bufD := &syncBuffer{}, &syncBuffer{}
	c := session(tlsListener(bufC), bufC, x509.NewCertPool()) // trusts nobody
	d := session(tlsListener(bufD), bufD, ca.Pool)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Connect(ctx, d.Path(), true)
	var ue x509.UnknownAuthorityError
	if err == nil || !strings.Contains(err.Error(), "connect to peer") || !errors.As(err, &ue) {
		t.Errorf("Connect to an untrusted peer: %v, want a certificate error", err)
	}
}

// TestDirectActivePeerSpeaksBeforeBindAnswer: the passive peer sends a
// message before it answers the active side's bodiless SEND (RFC 4975
// lets it: the session is up for it once the SEND came), and the wait
// for the bind's 200 ends then (a call's BYE overtook it). The peer had
// its message answered 200, so Connect must succeed and the message be
// delivered, not dropped with a failed session.
func TestDirectActivePeerSpeaksBeforeBindAnswer(t *testing.T) {
	checkGoroutines(t)
	buf := &syncBuffer{}
	e := openDirectSession(t, newTestListener(t, buf), buf)
	peer, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerURI := "msrp://" + peer.Addr().String() + "/eager1;tcp"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		nc, err := peer.Accept()
		if err != nil {
			return
		}
		c := rawServe(t, nc)
		if _, err := c.Read(); err != nil { // the bodiless SEND, left unanswered
			return
		}
		_ = c.Send(textSEND(e.URI(), peerURI, "eager"))
		for {
			f, err := c.Read()
			if err != nil {
				return
			}
			if !f.Msg.IsRequest() && f.Msg.StatusCode == 200 {
				cancel() // the call ends before the bind's answer
				<-e.Done()
				return
			}
		}
	}()
	if err := e.Connect(ctx, peerURI, true); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if m := next(t, e, 5*time.Second); string(m.Body) != "eager" {
		t.Fatalf("got %q", m.Body)
	}
}
