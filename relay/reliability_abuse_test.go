package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/msrp"
)

// Abuse tests (issue 6, "Bad input"): WebSocket misuse, slowloris,
// connection floods and attacks on AUTH.

// countingConn counts the writes on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// sendChunk builds a SEND from c to b with body.
func sendChunk(c *rawClient, b *client, body []byte) *msrp.Message {
	m := request("SEND", c.use+" "+b.use+" "+b.uri, c.uri, "Message-ID", msrp.NewMessageID(),
		"Byte-Range", fmt.Sprintf("1-%d/%d", len(body), len(body)), "Content-Type", "application/octet-stream")
	m.Body = body
	return m
}

func TestWebSocketAbuse(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) {
		c.MaxChunk = 64 << 10
		c.ForwardChunk = 16 << 10
		c.Transport.AllowedOrigins = []string{"https://app.example.com"}
	})
	b := dialClient(t, r.tcp, r.uri)
	b.auth("bob", "secret-bob")
	recv := startReceiver(b)

	t.Run("handshake refusals", func(t *testing.T) {
		tests := []struct {
			name     string
			protos   []string
			origin   string
			wantHTTP int
			wantLog  string
		}{
			{"no subprotocol", nil, "", 400, "subprotocol msrp not offered"},
			{"other subprotocol only", []string{"sip"}, "", 400, "subprotocol msrp not offered"},
			{"origin not allowed", []string{"msrp"}, "https://evil.example.net", 403, `Origin "https://evil.example.net"`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				h := http.Header{}
				if tc.origin != "" {
					h.Set("Origin", tc.origin)
				}
				_, resp, err := dialRawWS(t, r, websocket.Dialer{Subprotocols: tc.protos}, h)
				if err == nil || resp == nil || resp.StatusCode != tc.wantHTTP {
					t.Fatalf("dial: %v, response %v; want HTTP %d", err, resp, tc.wantHTTP)
				}
				if !waitFor(2*time.Second, func() bool {
					return strings.Contains(r.logBuf.String(), "refused WebSocket handshake from 127.0.0.1:") &&
						strings.Contains(r.logBuf.String(), tc.wantLog)
				}) {
					t.Errorf("no log line names the peer and %q", tc.wantLog)
				}
			})
		}
	})

	t.Run("origin allowed", func(t *testing.T) {
		h := http.Header{"Origin": {"https://app.example.com"}}
		c, resp, err := dialRawWS(t, r, websocket.Dialer{Subprotocols: []string{"msrp"}}, h)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("Access-Control-Allow-Origin %q, want the Origin echoed (RFC 7977 section 7)", got)
		}
		c.auth(relayUser, relayPass)
	})

	t.Run("two chunks in one message", func(t *testing.T) {
		c := dialRaw(t, r, "ws")
		c.auth(relayUser, relayPass)
		m1, m2 := sendChunk(c, b, []byte("one")), sendChunk(c, b, []byte("two"))
		b1, _ := m1.AppendTo(nil)
		b2, _ := m2.AppendTo(nil)
		before := recv.n.Load()
		c.writeRaw(append(b1, b2...))
		resp, err := c.expectResponse(m1.TransactionID, 5*time.Second)
		if err != nil || resp.StatusCode != 400 {
			t.Fatalf("got %v, %v; want 400 for the first chunk (RFC 7977 section 5.1)", resp, err)
		}
		if err := c.alive(); err != nil {
			t.Fatalf("connection unusable afterwards: %v", err)
		}
		if recv.n.Load() != before {
			t.Error("a chunk of a two-chunk message was forwarded")
		}
	})

	t.Run("oversized message", func(t *testing.T) {
		c := dialRaw(t, r, "ws")
		c.auth(relayUser, relayPass)
		// Over MaxChunk + MaxHeader + 1 KiB: the frame reader's read limit stops it
		// before it is buffered.
		c.writeRaw(bytes.Repeat([]byte("x"), 200<<10))
		c.readUntilClosed(5 * time.Second)
		peer := c.localAddr()
		if !waitFor(2*time.Second, func() bool {
			return strings.Contains(grepLines(r.logBuf.String(), peer), "read limit")
		}) {
			t.Errorf("no log line names %s and the read limit:\n%s", peer, grepLines(r.logBuf.String(), peer))
		}
	})

	t.Run("fragmented message reassembled", func(t *testing.T) {
		var writes atomic.Int32
		d := websocket.Dialer{
			Subprotocols:    []string{"msrp"},
			WriteBufferSize: 256, // gorilla sends a frame each time it fills
			NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				return countingConn{nc, &writes}, err
			},
		}
		c, _, err := dialRawWS(t, r, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.auth(relayUser, relayPass)
		body := bytes.Repeat([]byte("fragment "), 500)
		m := sendChunk(c, b, body)
		raw, _ := m.AppendTo(nil)
		before := writes.Load()
		w, err := c.ws.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(raw); i += 1000 {
			w.Write(raw[i:min(i+1000, len(raw))])
		}
		w.Close()
		if n := writes.Load() - before; n < 4 {
			t.Fatalf("the message went out in %d writes; want several frames", n)
		}
		resp, err := c.expectResponse(m.TransactionID, 5*time.Second)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v; want 200", resp, err)
		}
		if !waitFor(5*time.Second, func() bool { return recv.has(m.MessageID()) }) {
			t.Fatal("the reassembled message was not forwarded")
		}
	})

	t.Run("control frame over 125 bytes", func(t *testing.T) {
		c := dialRaw(t, r, "ws")
		c.auth(relayUser, relayPass)
		// A masked Ping with a 200-byte payload (RFC 6455 section 5.5
		// allows 125): written by hand, gorilla refuses to send it.
		frame := []byte{0x89, 0x80 | 126, 0, 200}
		var mask [4]byte
		rand.Read(mask[:])
		frame = append(frame, mask[:]...)
		for i := 0; i < 200; i++ {
			frame = append(frame, 'p'^mask[i%4])
		}
		c.nc.Write(frame)
		c.readUntilClosed(5 * time.Second)
		peer := c.localAddr()
		if !waitFor(2*time.Second, func() bool { return strings.Contains(grepLines(r.logBuf.String(), peer), "closed ws connection") }) {
			t.Errorf("no log line names %s:\n%s", peer, r.logBuf.String())
		}
	})

	t.Run("invalid UTF-8 in a text frame", func(t *testing.T) {
		c := dialRaw(t, r, "ws")
		c.auth(relayUser, relayPass)
		body := []byte{'b', 'i', 'n', 0xff, 0xfe, 0xc3, 0x28, 0x80, '!'}
		m := sendChunk(c, b, body)
		raw, _ := m.AppendTo(nil)
		// RFC 7977 section 4.2: text frame content is treated as binary.
		if err := c.ws.WriteMessage(websocket.TextMessage, raw); err != nil {
			t.Fatal(err)
		}
		resp, err := c.expectResponse(m.TransactionID, 5*time.Second)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v; want 200", resp, err)
		}
		if !waitFor(5*time.Second, func() bool { return recv.has(m.MessageID()) }) {
			t.Fatal("not forwarded")
		}
	})
}

// TestSlowloris: connections that send too little are closed by the
// probation timer (RFC 4976 section 6.1, shortened here).
func TestSlowloris(t *testing.T) {
	checkGoroutines(t)
	const probation = 400 * time.Millisecond
	const headerTimeout = time.Second // past the probation: probation closes first
	r := newTestRelay(t, func(c *Config) {
		c.Probation = probation
		c.Transport.HeaderTimeout = headerTimeout
	})
	trickle := func(c *rawClient, stop <-chan struct{}, data string) {
		for i := 0; i < len(data); i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := c.nc.Write([]byte{data[i]}); err != nil {
				return
			}
		}
	}
	endless := "MSRP abcd1234 AUTH\r\nTo-Path: " + strings.Repeat("msrp://x.invalid:1;tcp ", 1000)
	tests := []struct {
		name string
		kind string
		send func(c *rawClient, stop <-chan struct{})
	}{
		{"never sends a request (tcp)", "tcp", func(*rawClient, <-chan struct{}) {}},
		{"never sends a request (ws)", "ws", func(*rawClient, <-chan struct{}) {}},
		{"headers trickled a byte at a time", "tcp", func(c *rawClient, stop <-chan struct{}) { trickle(c, stop, endless) }},
		{"requests that never succeed", "tcp", func(c *rawClient, stop <-chan struct{}) {
			for {
				m := request("AUTH", c.via, c.uri)
				b, _ := m.AppendTo(nil)
				if c.writeRaw(b) != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, r, tc.kind)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { defer close(done); tc.send(c, stop) }()
			defer func() { close(stop); <-done }()
			start := time.Now()
			c.readUntilClosed(probation + 3*time.Second)
			took := time.Since(start)
			if took < probation-50*time.Millisecond {
				t.Errorf("closed after %v, before the probation of %v", took, probation)
			}
			peer := c.localAddr()
			if !waitFor(2*time.Second, func() bool {
				return strings.Contains(grepLines(r.logBuf.String(), peer), "probation")
			}) {
				t.Errorf("no log line names %s and the probation:\n%s", peer, grepLines(r.logBuf.String(), peer))
			}
		})
	}

	// Once a client has authenticated, probation is over; a header block
	// trickled forever must still end (the header timeout, F6), or one
	// authenticated user can pin connections and their buffers. On
	// WebSocket the header comes a byte per fragment, so that a client
	// could answer Pings between them.
	for _, kind := range []string{"tcp", "ws"} {
		t.Run("authenticated client trickles a header forever/"+kind, func(t *testing.T) {
			c := dialRaw(t, r, kind)
			c.auth(relayUser, relayPass)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				if kind == "tcp" {
					trickle(c, stop, endless)
					return
				}
				for i := 0; i < len(endless); i++ {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					op := websocket.TextMessage
					if i > 0 {
						op = 0 // continuation, no FIN: the message never ends
					}
					if writeWSFragment(c, op, endless[i:i+1]) != nil {
						return
					}
				}
			}()
			defer func() { close(stop); <-done }()
			start := time.Now()
			c.readUntilClosed(headerTimeout + 3*time.Second)
			if took := time.Since(start); took < headerTimeout-50*time.Millisecond {
				t.Errorf("closed after %v, before the header timeout of %v", took, headerTimeout)
			}
			peer := c.localAddr()
			if !waitFor(2*time.Second, func() bool {
				return strings.Contains(grepLines(r.logBuf.String(), peer), "read-timeout (header block not complete within 1s)")
			}) {
				t.Errorf("no log line names %s and the header timeout:\n%s", peer, grepLines(r.logBuf.String(), peer))
			}
		})
	}
}

// TestSlowlorisWebSocketHandshake: a TCP connection to the WebSocket
// listener that never finishes its HTTP request is closed after
// Transport.HandshakeTimeout (--handshake-timeout, F7), and so is one
// left idle after a refused handshake.
func TestSlowlorisWebSocketHandshake(t *testing.T) {
	checkGoroutines(t)
	const handshake = 300 * time.Millisecond
	r := newTestRelay(t, func(c *Config) { c.Transport.HandshakeTimeout = handshake })
	for _, tc := range []struct{ name, sent string }{
		{"half-sent request", "GET / HTTP/1.1\r\nHost: x\r\n"},
		{"idle after a refusal", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"}, // no Upgrade: 400, then keep-alive
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", hostPort(r.ws))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.Write([]byte(tc.sent))
			start := time.Now()
			nc.SetReadDeadline(time.Now().Add(handshake + 5*time.Second))
			_, err = io.Copy(io.Discard, nc)
			d := time.Since(start)
			switch {
			case isTimeout(err):
				t.Errorf("still open after %v", d)
			case d < handshake/2:
				t.Errorf("closed after %v, well before the handshake timeout %v", d, handshake)
			default:
				t.Logf("closed after %v", d)
			}
		})
	}
}

// TestSlowlorisConnectionFlood: connections beyond Config.MaxConnections
// are closed as they are accepted, with a log line naming each peer, on
// the TCP and the WebSocket listener alike: a WebSocket connection counts
// from accept on, before its handshake (F7). Connections that never
// finish their handshake are closed after HandshakeTimeout, which frees
// their slots, as does closing the rest.
func TestSlowlorisConnectionFlood(t *testing.T) {
	checkGoroutines(t)
	const limit = 4
	const handshake = time.Second
	r := newTestRelay(t, func(c *Config) {
		c.MaxConnections = limit
		c.Transport.HandshakeTimeout = handshake
	})
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		addr := r.tcp
		if i%2 == 1 {
			addr = r.ws // a TCP connection that never starts its handshake
		}
		nc, err := net.Dial("tcp", hostPort(addr))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		conns = append(conns, nc)
	}
	closed := map[net.Conn]bool{}
	for _, nc := range conns {
		// 20 x 30 ms stays well inside the handshake timeout.
		nc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		if _, err := nc.Read(make([]byte, 1)); !isTimeout(err) {
			closed[nc] = true
			if !waitFor(2*time.Second, func() bool {
				return strings.Contains(grepLines(r.logBuf.String(), nc.LocalAddr().String()), "max-connections")
			}) {
				t.Errorf("no log line names refused peer %s", nc.LocalAddr())
			}
		}
	}
	if len(closed) != len(conns)-limit {
		t.Errorf("%d of %d connections closed with a limit of %d", len(closed), len(conns), limit)
	}
	if n := r.srv.Stats().Connections; n != limit {
		t.Errorf("%d connections counted, want the limit %d", n, limit)
	}
	// The silent WebSocket ones go when the handshake time is up.
	for _, nc := range conns[1:] {
		if closed[nc] || nc.RemoteAddr().String() != hostPort(r.ws) {
			continue
		}
		nc.SetReadDeadline(time.Now().Add(handshake + 3*time.Second))
		if _, err := nc.Read(make([]byte, 1)); isTimeout(err) {
			t.Errorf("half-open WebSocket handshake from %s still open after %v", nc.LocalAddr(), handshake+3*time.Second)
		}
	}
	for _, nc := range conns {
		nc.Close()
	}
	if !waitFor(5*time.Second, func() bool { return r.srv.Stats().Connections == 0 }) {
		t.Fatalf("%d connections counted after all closed", r.srv.Stats().Connections)
	}
	for _, kind := range []string{"tcp", "ws"} {
		c := dialRaw(t, r, kind)
		c.auth(relayUser, relayPass)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestAuthAttacks: Digest attacks on AUTH (RFC 4976 sections 6.3, 9.1).
func TestAuthAttacks(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.NonceLifetime = 300 * time.Millisecond })
	challenge := func(c *rawClient) map[string]string {
		t.Helper()
		m := request("AUTH", c.via, c.uri)
		c.writeMsg(m)
		resp, err := c.expectResponse(m.TransactionID, 5*time.Second)
		if err != nil || resp.StatusCode != 401 {
			t.Fatalf("AUTH: %v %v", resp, err)
		}
		ch, _ := digest.Parse(resp.WWWAuthenticate())
		return ch
	}
	try := func(c *rawClient, authz string) (*msrp.Message, error) {
		m := request("AUTH", c.via, c.uri, "Authorization", authz)
		c.writeMsg(m)
		return c.expectResponse(m.TransactionID, 5*time.Second)
	}
	isStale := func(m *msrp.Message) bool {
		return m != nil && m.StatusCode == 401 && strings.Contains(strings.ToLower(m.WWWAuthenticate()), "stale=true")
	}
	for _, kind := range []string{"tcp", "ws"} {
		t.Run(kind, func(t *testing.T) {
			t.Run("three failures close the connection", func(t *testing.T) {
				c := dialRaw(t, r, kind)
				for i := 1; i <= 3; i++ {
					ch := challenge(c)
					resp, err := try(c, digestAuthorization(relayUser, "guess"+fmt.Sprint(i), ch, c.via, "AUTH", 1))
					if err != nil || resp.StatusCode != 401 || isStale(resp) {
						t.Fatalf("try %d: %v %v, want 401 without stale", i, resp, err)
					}
				}
				c.readUntilClosed(5 * time.Second)
				if !strings.Contains(grepLines(r.logBuf.String(), c.localAddr()), "too many failed AUTH") {
					t.Errorf("no log line names %s and the reason", c.localAddr())
				}
			})
			t.Run("digest for another realm", func(t *testing.T) {
				c := dialRaw(t, r, kind)
				ch := challenge(c)
				ch["realm"] = "other.example.com"
				resp, err := try(c, digestAuthorization(relayUser, relayPass, ch, c.via, "AUTH", 1))
				if err != nil || resp.StatusCode != 401 || isStale(resp) {
					t.Fatalf("got %v %v, want 401 without stale", resp, err)
				}
			})
			t.Run("replayed Authorization", func(t *testing.T) {
				victim := dialRaw(t, r, kind)
				ch := challenge(victim)
				authz := digestAuthorization(relayUser, relayPass, ch, victim.via, "AUTH", 1)
				if resp, err := try(victim, authz); err != nil || resp.StatusCode != 200 {
					t.Fatalf("victim: %v %v", resp, err)
				}
				// An eavesdropper replays the same header (same nonce, nc,
				// cnonce) on a connection of its own.
				attacker := dialRaw(t, r, kind)
				attacker.uri = victim.uri
				resp, err := try(attacker, authz)
				if err != nil || resp.StatusCode == 200 {
					t.Fatalf("replay: %v %v, want a refusal", resp, err)
				}
				if !isStale(resp) {
					t.Errorf("replay: %d %q, want 401 stale=TRUE", resp.StatusCode, resp.WWWAuthenticate())
				}
				// The same nonce count with a fresh cnonce is a replay too.
				resp, err = try(attacker, digestAuthorization(relayUser, relayPass, ch, victim.via, "AUTH", 1))
				if err != nil || resp.StatusCode == 200 {
					t.Fatalf("nc reused: %v %v, want a refusal", resp, err)
				}
			})
			t.Run("expired nonce is stale and does not count", func(t *testing.T) {
				c := dialRaw(t, r, kind)
				for i := 0; i < 4; i++ {
					ch := challenge(c)
					time.Sleep(400 * time.Millisecond)
					resp, err := try(c, digestAuthorization(relayUser, relayPass, ch, c.via, "AUTH", 1))
					if err != nil || !isStale(resp) {
						t.Fatalf("try %d: %v %v, want 401 stale=TRUE", i, resp, err)
					}
				}
				// Four stale answers, more than MaxAuthFailures: still open.
				ch := challenge(c)
				if resp, err := try(c, digestAuthorization(relayUser, relayPass, ch, c.via, "AUTH", 1)); err != nil || resp.StatusCode != 200 {
					t.Fatalf("fresh nonce: %v %v, want 200", resp, err)
				}
			})
		})
	}
}

// TestAuthSecretsNeverLogged: with every scope at trace level, no
// password, HA1 or Digest response appears in the logs of successful and
// failed AUTHs.
func TestAuthSecretsNeverLogged(t *testing.T) {
	checkGoroutines(t)
	buf := &syncBuffer{}
	r := newTestRelay(t, func(c *Config) {
		c.LoggerFactory = &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelTrace, ScopeLevels: map[string]logging.LogLevel{}}
	})
	const wrong = "Wr0ng-Passw0rd-Xyzzy"
	var responses []string
	for _, kind := range []string{"tcp", "ws"} {
		c := dialRaw(t, r, kind)
		c.auth(relayUser, relayPass)
		d := dialRaw(t, r, kind)
		m := request("AUTH", d.via, d.uri)
		d.writeMsg(m)
		resp, _ := d.expectResponse(m.TransactionID, 5*time.Second)
		ch, _ := digest.Parse(resp.WWWAuthenticate())
		authz := digestAuthorization(relayUser, wrong, ch, d.via, "AUTH", 1)
		p, _ := digest.Parse(authz)
		responses = append(responses, p["response"])
		m = request("AUTH", d.via, d.uri, "Authorization", authz)
		d.writeMsg(m)
		d.expectResponse(m.TransactionID, 5*time.Second)
	}
	log := buf.String()
	if !strings.Contains(log, "in 127.0.0.1:") {
		t.Fatalf("trace logging is not on (no wire trace):\n%s", log)
	}
	secrets := map[string]string{
		"password":       relayPass,
		"wrong password": wrong,
		"HA1":            HA1(relayUser, relayRealm, relayPass),
		"wrong HA1":      HA1(relayUser, relayRealm, wrong),
	}
	for i, resp := range responses {
		secrets[fmt.Sprintf("Digest response %d", i)] = resp
	}
	for name, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the %s %q appears in the log:\n%s", name, s, grepLines(log, s))
		}
	}
}

// TestAuthPerSourceLimit: RFC 4976 section 6.3 closes a connection after
// several failed AUTHs, but an attacker simply reconnects. A limit per
// source address across connections is wanted (see RELIABILITY.md, F3):
//
//	// Config.AuthFailuresPerSource is how many failed AUTHs one source
//	// address may make within AuthFailureWindow before its connections
//	// are closed and new ones refused until the window passes.
//	// Default: 20 per minute; -1: no limit.
//	AuthFailuresPerSource int
//	AuthFailureWindow     time.Duration
//
// The test uses the defaults: 10 connections × 3 failures from 127.0.0.1
// exceed 20 per minute, so the next connection is closed without an
// answer, with a log line naming the address.
func TestAuthPerSourceLimit(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	for i := 0; i < 10; i++ {
		c := dialRaw(t, r, "tcp")
		for j := 1; j <= 3; j++ {
			m := request("AUTH", c.via, c.uri)
			c.writeMsg(m)
			resp, err := c.expectResponse(m.TransactionID, 5*time.Second)
			if err != nil {
				break // already refused: the limit works early
			}
			ch, _ := digest.Parse(resp.WWWAuthenticate())
			m = request("AUTH", c.via, c.uri, "Authorization", digestAuthorization(relayUser, "guess", ch, c.via, "AUTH", 1))
			c.writeMsg(m)
			if _, err := c.expectResponse(m.TransactionID, 5*time.Second); err != nil {
				break
			}
		}
		c.nc.Close()
	}
	c := dialRaw(t, r, "tcp")
	m := request("AUTH", c.via, c.uri)
	c.writeMsg(m)
	if resp, err := c.expectResponse(m.TransactionID, 2*time.Second); err == nil {
		t.Fatalf("got %d after 30 failed AUTHs from this address, want the connection closed", resp.StatusCode)
	}
	if !strings.Contains(r.logBuf.String(), "127.0.0.1") || !strings.Contains(r.logBuf.String(), "failed AUTHs from 127.0.0.1") {
		t.Error("no log line names the source address and the limit")
	}
}

// writeWSFragment writes one masked frame without FIN on c's WebSocket:
// opcode op (0 for a continuation) and payload p.
func writeWSFragment(c *rawClient, op int, p string) error {
	key := [4]byte{1, 2, 3, 4}
	b := []byte{byte(op), 0x80 | byte(len(p))}
	b = append(b, key[:]...)
	for i := range len(p) {
		b = append(b, p[i]^key[i&3])
	}
	_, err := c.nc.Write(b)
	return err
}
