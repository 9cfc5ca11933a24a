package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// testMaskKey masks the frames tests write as a client.
var testMaskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// wsFrame builds a frame by hand, independently of package ws: b0 is the
// first header byte (FIN, RSV bits, opcode), and the payload is masked
// when mask is set, as a client must.
func wsFrame(b0 byte, payload []byte, mask bool) []byte {
	out := []byte{b0, 0}
	switch n := len(payload); {
	case n <= 125:
		out[1] = byte(n)
	case n <= 0xffff:
		out[1] = 126
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out[1] = 127
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !mask {
		return append(out, payload...)
	}
	out[1] |= 0x80
	out = append(out, testMaskKey[:]...)
	for i, c := range payload {
		out = append(out, c^testMaskKey[i&3])
	}
	return out
}

// closePayload is the payload of a Close frame with code and reason.
func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// wsRaw is a WebSocket peer driven by hand over a raw TCP socket, after a
// real handshake.
type wsRaw struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dialWSRaw connects to a server of ours as a client.
func dialWSRaw(t *testing.T, url string) *wsRaw {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	rest, err := ws.Handshake(nc, u, Subprotocol)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Time{})
	return &wsRaw{t: t, nc: nc, br: bufio.NewReader(io.MultiReader(bytes.NewReader(rest), nc))}
}

// send writes frames in one write.
func (c *wsRaw) send(frames ...[]byte) {
	c.t.Helper()
	if _, err := c.nc.Write(bytes.Join(frames, nil)); err != nil {
		c.t.Fatal(err)
	}
}

// readFrame reads one whole frame, unmasking it if masked.
func (c *wsRaw) readFrame() (b0 byte, payload []byte, err error) {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return readTestFrame(c.br)
}

func readTestFrame(r io.Reader) (b0 byte, payload []byte, err error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(r, h[:2]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if _, err := io.ReadFull(r, h[:8]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(h[:8])
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i&3]
		}
	}
	return h[0], payload, nil
}

// expectClose reads frames until a Close frame and returns its code.
func (c *wsRaw) expectClose() int {
	c.t.Helper()
	for {
		b0, p, err := c.readFrame()
		if err != nil {
			c.t.Fatalf("no close frame: %v", err)
		}
		if b0 == 0x80|ws.OpClose {
			if len(p) < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(p))
		}
	}
}

// wsServer runs a WebSocket handler of ours that hands out its Conns and
// the frames it reads.
type wsServer struct {
	url    string
	conns  serverConns
	frames chan Frame
	logs   *logBuffer
	limit  int64 // the read limit
}

func startWSServer(t *testing.T, cfg Config) *wsServer {
	t.Helper()
	s := &wsServer{conns: make(serverConns, 4), frames: make(chan Frame, 64), logs: new(logBuffer)}
	cfg.LoggerFactory = testLogger(s.logs)
	if cfg.Keepalive.Interval == 0 {
		cfg.Keepalive.Interval = -1 // no Pings of ours in the frames read
	}
	h := newHost(t, cfg)
	s.limit = h.readLimit
	s.url = serveWS(t, h, holdHandler(s.conns, false, s.frames))
	return s
}

func (s *wsServer) frame(t *testing.T) Frame {
	t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame read")
		return Frame{}
	}
}

// A message in fragments, with control frames between them (RFC 6455
// sections 5.4 and 5.5): the Ping is answered at once, before the message
// is complete, and the message arrives whole.
func TestWSReaderFragments(t *testing.T) {
	leakCheck(t)
	s := startWSServer(t, Config{})
	c := dialWSRaw(t, s.url)
	body := strings.Repeat("abcdefgh", 40000) // 320 KB: direct reads past the read-ahead
	chunk := mustWire(sendReq("frag0001", body))

	c.send(wsFrame(0x01, chunk[:100], true)) // text, no FIN
	c.send(wsFrame(0x80|ws.OpPing, []byte("mid"), true))
	b0, p, err := c.readFrame()
	if err != nil || b0 != 0x80|ws.OpPong || string(p) != "mid" {
		t.Fatalf("got frame %#x %q, %v; want the Pong to the Ping between fragments", b0, p, err)
	}
	c.send(wsFrame(0x00, chunk[100:300], true),
		wsFrame(0x80|ws.OpPong, nil, true), // unsolicited: ignored
		wsFrame(0x00, nil, true),           // an empty fragment
		wsFrame(0x00, chunk[300:200000], true),
		wsFrame(0x80, chunk[200000:], true))
	var got []byte
	for {
		f := s.frame(t)
		if f.Err != nil || f.Msg.TransactionID != "frag0001" || f.Offset != int64(len(got)) {
			t.Fatalf("frame %+v (err %v), offset %d", f.Msg, f.Err, len(got))
		}
		got = append(got, f.Msg.Body...)
		if f.Last {
			break
		}
	}
	if string(got) != body {
		t.Fatalf("body of %d bytes, want %d", len(got), len(body))
	}

	// Still usable: a binary message in one frame.
	c.send(wsFrame(0x80|ws.OpBinary, mustWire(sendReq("frag0002", "\xff")), true))
	if f := s.frame(t); f.Msg.TransactionID != "frag0002" || string(f.Msg.Body) != "\xff" {
		t.Fatalf("then %+v", f.Msg)
	}
}

// Two chunks in one message are answered 400 (RFC 7977 section 5.1), also
// when the message comes in fragments, and the connection stays usable.
func TestWSReaderTwoChunksInFragments(t *testing.T) {
	leakCheck(t)
	s := startWSServer(t, Config{})
	c := dialWSRaw(t, s.url)
	two := append(mustWire(sendReq("twoc0001", "one")), mustWire(sendReq("twoc0002", "two"))...)
	c.send(wsFrame(0x01, two[:50], true), wsFrame(0x00, two[50:len(two)-20], true), wsFrame(0x80, two[len(two)-20:], true))
	var pe *msrp.ParseError
	if f := s.frame(t); !errors.As(f.Err, &pe) || pe.Code != 400 || f.Msg.TransactionID != "twoc0001" {
		t.Fatalf("frame %+v err %v, want a 400 for twoc0001", f.Msg, f.Err)
	}
	c.send(wsFrame(0x81, mustWire(sendReq("twoc0003", "after")), true))
	if f := s.frame(t); f.Err != nil || string(f.Msg.Body) != "after" {
		t.Fatalf("then %+v, %v", f.Msg, f.Err)
	}
}

// Frames that break RFC 6455 close the connection with a Close frame
// (1002, or 1009 for a message over the read limit), ReasonProtocolError
// and a log line naming the peer and what was wrong.
func TestWSReaderProtocolErrors(t *testing.T) {
	leakCheck(t)
	chunk := mustWire(sendReq("bad00001", "hello"))
	over := func(limit int64) []byte { // a header alone: the payload never comes
		h := []byte{0x82, 0x80 | 127}
		h = binary.BigEndian.AppendUint64(h, uint64(limit+1))
		return append(h, testMaskKey[:]...)
	}
	tests := []struct {
		name     string
		frames   func(limit int64) [][]byte
		wantCode int
		wantLog  string
	}{
		{"unmasked client frame", func(int64) [][]byte { return [][]byte{wsFrame(0x81, chunk, false)} },
			1002, "unmasked frame from the client"},
		{"control frame with a 126-byte payload", func(int64) [][]byte {
			return [][]byte{wsFrame(0x80|ws.OpPing, bytes.Repeat([]byte("p"), 126), true)}
		}, 1002, "control frame with a payload over 125 bytes (opcode 9)"},
		{"control frame without FIN", func(int64) [][]byte { return [][]byte{wsFrame(ws.OpPing, []byte("p"), true)} },
			1002, "fragmented control frame (opcode 9)"},
		{"RSV1 set", func(int64) [][]byte { return [][]byte{wsFrame(0xc1, chunk, true)} },
			1002, "reserved bits set"},
		{"RSV3 set on a control frame", func(int64) [][]byte { return [][]byte{wsFrame(0x90|ws.OpPing, nil, true)} },
			1002, "reserved bits set"},
		{"unknown data opcode", func(int64) [][]byte { return [][]byte{wsFrame(0x83, chunk, true)} },
			1002, "unknown opcode (opcode 3)"},
		{"unknown control opcode", func(int64) [][]byte { return [][]byte{wsFrame(0x8b, nil, true)} },
			1002, "unknown opcode (opcode 11)"},
		{"continuation without a message", func(int64) [][]byte { return [][]byte{wsFrame(0x80, chunk, true)} },
			1002, "continuation frame without a message to continue"},
		{"new message inside a fragmented one", func(int64) [][]byte {
			return [][]byte{wsFrame(0x01, chunk[:10], true), wsFrame(0x82, chunk[10:], true)}
		}, 1002, "data frame inside a fragmented message (opcode 2)"},
		{"64-bit length with the top bit set", func(int64) [][]byte {
			return [][]byte{append([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1}, testMaskKey[:]...)}
		}, 1002, "most significant bit"},
		{"close frame with a 1-byte payload", func(int64) [][]byte { return [][]byte{wsFrame(0x80|ws.OpClose, []byte{3}, true)} },
			1002, "close frame with a 1-byte payload"},
		{"close frame with a reserved code", func(int64) [][]byte {
			return [][]byte{wsFrame(0x80|ws.OpClose, closePayload(1005, ""), true)}
		}, 1002, "close frame with status code 1005"},
		{"message over the read limit", func(limit int64) [][]byte { return [][]byte{over(limit)} },
			1009, "read limit"},
		{"fragments over the read limit", func(limit int64) [][]byte {
			// A chunk's start, then body: parsed as it comes, refused
			// when a fragment takes the message past the limit.
			head := mustWire(sendReq("big00001", "x"))
			head = head[:bytes.Index(head, []byte("\r\n\r\n"))+4]
			part := bytes.Repeat([]byte("x"), int(limit/2+1))
			return [][]byte{wsFrame(0x01, append(head, part...), true), wsFrame(0x80, part, true)}
		}, 1009, "read limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startWSServer(t, Config{MaxChunk: 8 << 10})
			c := dialWSRaw(t, s.url)
			srv := waitConn(t, s.conns)
			c.send(tc.frames(s.limit)...)
			if code := c.expectClose(); code != tc.wantCode {
				t.Errorf("close code %d, want %d", code, tc.wantCode)
			}
			waitClosed(t, srv, 2*time.Second)
			if srv.Reason() != ReasonProtocolError {
				t.Errorf("reason %v, want protocol-error", srv.Reason())
			}
			waitLog(t, s.logs, "closed ws connection with "+c.nc.LocalAddr().String()+": protocol-error (websocket: ")
			waitLog(t, s.logs, tc.wantLog)
			select {
			case f := <-s.frames:
				t.Errorf("frame %+v delivered", f.Msg)
			default:
			}
		})
	}
}

// A Close frame is answered with one echoing its code (1000 for none),
// also between the fragments of a message; the connection then closes as
// peer-closed.
func TestWSReaderCloseEchoed(t *testing.T) {
	leakCheck(t)
	tests := []struct {
		name     string
		frames   [][]byte
		wantCode int
	}{
		{"going away", [][]byte{wsFrame(0x80|ws.OpClose, closePayload(1001, "bye"), true)}, 1001},
		{"application code", [][]byte{wsFrame(0x80|ws.OpClose, closePayload(4000, ""), true)}, 4000},
		{"no code", [][]byte{wsFrame(0x80|ws.OpClose, nil, true)}, 1000},
		{"between fragments", [][]byte{wsFrame(0x01, []byte("MSRP half"), true),
			wsFrame(0x80|ws.OpClose, closePayload(1000, ""), true)}, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startWSServer(t, Config{})
			c := dialWSRaw(t, s.url)
			srv := waitConn(t, s.conns)
			c.send(tc.frames...)
			if code := c.expectClose(); code != tc.wantCode {
				t.Errorf("close code %d, want %d", code, tc.wantCode)
			}
			waitClosed(t, srv, 2*time.Second)
			if srv.Reason() != ReasonPeerClosed {
				t.Errorf("reason %v, want peer-closed", srv.Reason())
			}
			waitLog(t, s.logs, "closed ws connection with "+c.nc.LocalAddr().String()+": peer-closed")
			if _, _, err := c.readFrame(); err == nil {
				t.Error("a second frame after the close echo")
			}
		})
	}
}

// A burst of small chunks that arrived together is read with one system
// call: the before-read hook runs before the reader waits, not between
// the chunks, and once the burst is handled no read-ahead is held.
func TestWSReadAheadBurst(t *testing.T) {
	leakCheck(t)
	type seen struct {
		tid   string
		hooks int
		ahead bool
	}
	results := make(chan seen, 64)
	url := startWS(t, Config{Keepalive: keepalive.Config{Interval: -1}}, func(c *Conn) {
		hooks := 0 // reader goroutine only
		c.SetBeforeRead(func() { hooks++ })
		for {
			f, err := c.Read()
			if err != nil {
				return
			}
			results <- seen{f.Msg.TransactionID, hooks, c.wsr.Buffered() > 0}
		}
	})
	c := dialWSRaw(t, url)
	const n = 40
	var burst [][]byte
	for i := range n {
		burst = append(burst, wsFrame(0x81, mustWire(sendReq(fmt.Sprintf("burst%03d", i), "x")), true))
	}
	time.Sleep(50 * time.Millisecond) // let the reader wait
	c.send(burst...)
	var got []seen
	for range n {
		select {
		case r := <-results:
			got = append(got, r)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d chunks read", len(got), n)
		}
	}
	for i, r := range got {
		if want := fmt.Sprintf("burst%03d", i); r.tid != want {
			t.Fatalf("chunk %d is %s, want %s: order lost", i, r.tid, want)
		}
	}
	if got[0].hooks < 1 {
		t.Error("the reader waited for input without calling its before-read hook")
	}
	if !ws.ReadAhead {
		return // frames are read straight from the socket
	}
	if d := got[n-1].hooks - got[0].hooks; d > 2 {
		t.Errorf("the hook ran %d times within a burst that arrived at once; want the read-ahead to take it whole", d)
	}
	if !got[0].ahead {
		t.Error("no read-ahead while the burst was being handled")
	}
	if got[n-1].ahead {
		t.Error("read-ahead still held after the burst was drained")
	}
}

// Pings and Pongs of an idle connection allocate nothing (the idle
// benchmark's allocs/ping).
func TestWSPingAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation and pooling")
	}
	leakCheck(t)
	s := startWSServer(t, Config{Keepalive: keepalive.Config{Interval: -1, FloodRate: -1}})
	c := dialWSRaw(t, s.url)
	waitConn(t, s.conns)
	ping := wsFrame(0x80|ws.OpPing, []byte("keepalive"), true)
	pong := wsFrame(0x80|ws.OpPong, nil, true)
	var buf [2 + len("keepalive")]byte
	round := func() {
		if _, err := c.nc.Write(ping); err != nil {
			t.Fatal(err)
		}
		if _, err := c.nc.Write(pong); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c.nc, buf[:]); err != nil || buf[0] != 0x80|ws.OpPong {
			t.Fatalf("Pong: %#x, %v", buf[0], err)
		}
	}
	for range 20 {
		round() // warm the pools
	}
	allocs := testing.AllocsPerRun(200, round)
	if allocs > 0.5 {
		t.Errorf("%.2f allocations per Ping and Pong, want none", allocs)
	}
}
