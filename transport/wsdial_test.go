package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// fakeWSServer accepts one connection on 127.0.0.1, reads the handshake
// request and writes what respond makes of it followed by after, in one
// write: frames right behind the 101 response. The connection then goes
// to the test.
func fakeWSServer(t *testing.T, respond func(r *http.Request) string, after []byte) (url string, conns <-chan net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 1)
	t.Cleanup(func() {
		l.Close()
		select {
		case nc := <-ch: // not taken by the test
			nc.Close()
		default:
		}
	})
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		br := bufio.NewReader(nc)
		r, err := http.ReadRequest(br)
		if err != nil {
			nc.Close()
			return
		}
		if resp := respond(r); resp != "" {
			nc.Write(append([]byte(resp), after...))
		}
		ch <- nc
	}()
	return "ws://" + l.Addr().String() + "/msrp?x=1", ch
}

// switching answers a handshake as a server should, with headers extra
// (lines ending in CRLF) added.
func switching(extra string) func(r *http.Request) string {
	return func(r *http.Request) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + ws.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"
	}
}

func takeConn(t *testing.T, conns <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case nc := <-conns:
		t.Cleanup(func() { nc.Close() })
		return nc
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
		return nil
	}
}

// The client handshake sends what RFC 6455 section 4.1 asks; frames the
// server writes right behind its 101 response are not lost; a masked
// frame from the server fails the connection with 1002.
func TestDialWebSocketClientSide(t *testing.T) {
	leakCheck(t)
	var req atomic.Pointer[http.Request]
	resp := mustWire(sendReq("dial0001", "").Response(200, "OK"))
	after := append(wsFrame(0x81, resp, false), wsFrame(0x80|ws.OpPing, []byte("p1"), false)...)
	url, conns := fakeWSServer(t, func(r *http.Request) string {
		req.Store(r)
		return switching("Sec-WebSocket-Protocol: msrp\r\n")(r)
	}, after)
	c, err := testDial(t.Context(), url, Config{Keepalive: keepalive.Config{Interval: -1}}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ReasonLocal, "test over")
	// Written with the 101 in one write, the frames came in the handshake
	// reader's buffer; the frame reader must have them (no reader runs
	// yet, so this looks without a race).
	if c.wsr.Buffered() != len(after) {
		t.Errorf("%d bytes behind the handshake kept for the frame reader, want %d", c.wsr.Buffered(), len(after))
	}
	nc := takeConn(t, conns)
	r := req.Load()
	switch {
	case r.Method != http.MethodGet, r.RequestURI != "/msrp?x=1", r.Host != nc.LocalAddr().String():
		t.Errorf("request %s %s Host %s", r.Method, r.RequestURI, r.Host)
	case !strings.EqualFold(r.Header.Get("Upgrade"), "websocket"), !strings.EqualFold(r.Header.Get("Connection"), "upgrade"):
		t.Errorf("request headers %v", r.Header)
	case r.Header.Get("Sec-WebSocket-Version") != "13", r.Header.Get("Sec-WebSocket-Protocol") != "msrp",
		len(r.Header.Get("Sec-WebSocket-Key")) != 24:
		t.Errorf("request headers %v", r.Header)
	}

	type read struct {
		f   Frame
		err error
	}
	reads := make(chan read, 4)
	go func() {
		for {
			f, err := c.Read()
			reads <- read{f, err}
			if err != nil {
				return
			}
		}
	}()
	if r := <-reads; r.err != nil || r.f.Msg.StatusCode != 200 || r.f.Msg.TransactionID != "dial0001" {
		t.Fatalf("Read = %+v, %v; want the 200 sent right after the handshake", r.f.Msg, r.err)
	}
	br := bufio.NewReader(nc)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b0, p, err := readTestFrame(br)
	if err != nil || b0 != 0x80|ws.OpPong || string(p) != "p1" {
		t.Fatalf("got %#x %q, %v; want the Pong to the Ping sent right after the handshake", b0, p, err)
	}

	nc.Write(wsFrame(0x81, resp, true))
	if r := <-reads; !IsClosed(r.err) || c.Reason() != ReasonProtocolError {
		t.Fatalf("Read of a masked server frame: %v, reason %v", r.err, c.Reason())
	}
	for {
		b0, p, err = readTestFrame(br)
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if b0 == 0x80|ws.OpClose {
			break
		}
	}
	if len(p) < 2 || p[0] != 1002>>8 || p[1] != 1002&0xff || !strings.Contains(string(p), "masked frame from the server") {
		t.Errorf("close frame %q, want 1002 and the reason", p)
	}
}

// A server that does not complete the handshake is refused.
func TestDialWebSocketRefused(t *testing.T) {
	leakCheck(t)
	tests := []struct {
		name          string
		respond       func(r *http.Request) string
		noSubprotocol bool
	}{
		{"HTTP 400", func(*http.Request) string {
			return "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nno\n"
		}, false},
		{"no Sec-WebSocket-Accept", func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: msrp\r\n\r\n"
		}, false},
		{"wrong Sec-WebSocket-Accept", func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: msrp\r\n\r\n"
		}, false},
		{"no Upgrade", func(r *http.Request) string {
			return strings.Replace(switching("Sec-WebSocket-Protocol: msrp\r\n")(r), "Upgrade: websocket\r\n", "", 1)
		}, false},
		{"extension not offered", switching("Sec-WebSocket-Protocol: msrp\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"), false},
		{"no subprotocol", switching(""), true},
		{"another subprotocol", switching("Sec-WebSocket-Protocol: sip\r\n"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := fakeWSServer(t, tc.respond, nil)
			c, err := testDial(t.Context(), url, Config{}, DialOptions{})
			if err == nil {
				c.Close(ReasonLocal, "test over")
				t.Fatal("Dial succeeded")
			}
			if errors.Is(err, ErrNoSubprotocol) != tc.noSubprotocol {
				t.Errorf("Dial: %v; want ErrNoSubprotocol %v", err, tc.noSubprotocol)
			}
		})
	}
}

// The handshake is bounded by HandshakeTimeout and by the caller's ctx.
func TestDialWebSocketTimeout(t *testing.T) {
	leakCheck(t)
	silent := func(*http.Request) string { return "" }

	url, _ := fakeWSServer(t, silent, nil)
	start := time.Now()
	_, err := testDial(t.Context(), url, Config{HandshakeTimeout: 100 * time.Millisecond}, DialOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Dial to a silent server: %v after %v", err, time.Since(start))
	}

	url, _ = fakeWSServer(t, silent, nil)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = testDial(ctx, url, Config{}, DialOptions{})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("Dial cancelled: %v after %v", err, time.Since(start))
	}
}

// wss: TLS with SNI for the URL's host, ALPN http/1.1, and chunks both
// ways through the frame reader on either side.
func TestDialWSS(t *testing.T) {
	leakCheck(t)
	ca := testpki.NewCA(t)
	got := make(serverConns, 1)
	srv := httptest.NewUnstartedServer(newHost(t, Config{}).WebSocketHandler(holdHandler(got, true, nil)))
	var sni atomic.Value
	var alpn atomic.Value
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Issue("localhost").Cert},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			sni.Store(h.ServerName)
			alpn.Store(strings.Join(h.SupportedProtos, ","))
			return nil, nil
		},
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "wss://localhost:" + port + "/"

	cli := &tls.Config{RootCAs: ca.Pool, NextProtos: []string{"h2"}}
	c, err := testDial(t.Context(), url, Config{}, DialOptions{TLSConfig: cli})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ReasonLocal, "test over")
	if c.Kind() != KindWSS || sni.Load() != "localhost" || alpn.Load() != "http/1.1" {
		t.Errorf("kind %v, SNI %q, ALPN %q", c.Kind(), sni.Load(), alpn.Load())
	}
	body := strings.Repeat("s", 100000) // several TLS records
	if err := c.Send(sendReq("wss00001", body)); err != nil {
		t.Fatal(err)
	}
	f, err := c.Read()
	if err != nil || f.Msg.StatusCode != 200 || f.Msg.TransactionID != "wss00001" {
		t.Fatalf("Read = %+v, %v; want the 200", f.Msg, err)
	}
	s := waitConn(t, got)
	if s.Kind() != KindWSS {
		t.Errorf("server kind %v", s.Kind())
	}
	if err := s.Send(sendReq("wss00002", body)); err != nil {
		t.Fatal(err)
	}
	var in []byte
	for !f.Last || f.Msg.TransactionID != "wss00002" {
		if f, err = c.Read(); err != nil {
			t.Fatal(err)
		}
		if f.Msg.Method == msrp.MethodSEND {
			in = append(in, f.Msg.Body...)
		}
	}
	if string(in) != body {
		t.Errorf("client read %d bytes, want %d", len(in), len(body))
	}
	c.Close(ReasonLocal, "test over")
	waitClosed(t, s, 2*time.Second)
	if s.Reason() != ReasonPeerClosed {
		t.Errorf("server reason %v, want peer-closed", s.Reason())
	}
}

// A server that vanishes mid-handshake, after part of its response, fails
// Dial at once with the cut response, not after HandshakeTimeout.
func TestDialWebSocketServerVanishes(t *testing.T) {
	leakCheck(t)
	partial := func(*http.Request) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	}
	url, conns := fakeWSServer(t, partial, nil)
	go func() {
		if nc, ok := <-conns; ok {
			nc.Close()
		}
	}()
	start := time.Now()
	c, err := testDial(t.Context(), url, Config{HandshakeTimeout: 5 * time.Second}, DialOptions{})
	if err == nil {
		c.Close(ReasonLocal, "test over")
		t.Fatal("Dial succeeded")
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) || time.Since(start) > 2*time.Second {
		t.Errorf("Dial: %v after %v; want the cut response at once", err, time.Since(start))
	}
}
