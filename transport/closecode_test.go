package transport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// The close frame a WebSocket peer gets says why (RFC 6455 section
// 7.4.1): 1000 only when the layer above is done, 1001 when we shut down,
// 1008 for refusals, 1011 for a keepalive timeout, and none when the
// socket is broken; its reason text names the close reason.
func TestWSCloseCodes(t *testing.T) {
	leakCheck(t)
	tests := []struct {
		reason CloseReason
		want   int // 0: no close frame
	}{
		{ReasonLocal, 1000},
		{ReasonShutdown, 1001},
		{ReasonPolicy, 1008},
		{ReasonFlood, 1008},
		{ReasonReadTimeout, 1008},
		{ReasonProtocolError, 1002},
		{ReasonKeepaliveTimeout, 1011},
		{ReasonSlowConsumer, 0},
		{ReasonWriteError, 0},
	}
	for _, tc := range tests {
		t.Run(tc.reason.String(), func(t *testing.T) {
			s := startWSServer(t, Config{})
			c := dialWSRaw(t, s.url)
			srv := waitConn(t, s.conns)
			srv.Close(tc.reason, "test")
			b0, p, err := c.readFrame()
			switch {
			case tc.want == 0 && err == nil:
				t.Errorf("frame %#x %q, want none", b0, p)
			case tc.want == 0:
			case err != nil || b0 != 0x80|ws.OpClose || len(p) < 2:
				t.Fatalf("frame %#x %q, %v; want a close frame", b0, p, err)
			case int(p[0])<<8|int(p[1]) != tc.want:
				t.Errorf("close code %d, want %d", int(p[0])<<8|int(p[1]), tc.want)
			case !strings.HasPrefix(string(p[2:]), tc.reason.String()+": test"):
				t.Errorf("close reason %q, want %q", p[2:], tc.reason.String()+": test")
			}
		})
	}

	// The real thing: a peer that answers no Ping is closed by keepalive
	// with 1011, not 1000.
	t.Run("keepalive timeout", func(t *testing.T) {
		s := startWSServer(t, Config{Keepalive: keepalive.Config{Interval: kaInterval, Timeout: kaTimeout, Misses: 2, Mode: keepalive.ModeFrames}})
		c := dialWSRaw(t, s.url)
		srv := waitConn(t, s.conns)
		if code := c.expectClose(); code != 1011 {
			t.Errorf("close code %d, want 1011", code)
		}
		waitClosed(t, srv, time.Second)
		if srv.Reason() != ReasonKeepaliveTimeout {
			t.Errorf("reason %v", srv.Reason())
		}
	})
}

// A peer sending one large frame slowly cannot answer a Ping until the
// frame is done; the body bytes it sends meanwhile prove it alive, so
// keepalive leaves it be, though the piece being filled is not complete
// for many keepalive intervals. (As on TCP, a header block counts once
// parsed, so that an answer to our probe is still recognised as one;
// it comes in the frame's first bytes.)
func TestWSSlowFrameKeepsAlive(t *testing.T) {
	leakCheck(t)
	s := startWSServer(t, Config{Keepalive: fastKeepalive()}) // dead after ~3 intervals of silence
	c := dialWSRaw(t, s.url)
	srv := waitConn(t, s.conns)
	body := strings.Repeat("z", 600)
	chunk := mustWire(sendReq("slowfram", body))
	frame := wsFrame(0x80|ws.OpBinary, chunk, true)
	head := len(frame) - len(chunk) + bytes.Index(chunk, []byte("\r\n\r\n")) + 4
	c.send(frame[:head])
	start := time.Now()
	for i := head; i < len(frame); i += 10 {
		if _, err := c.nc.Write(frame[i:min(i+10, len(frame))]); err != nil {
			t.Fatalf("after %v: %v; server closed: %v", time.Since(start), err, srv.Reason())
		}
		time.Sleep(kaInterval / 4)
	}
	if time.Since(start) < 10*kaInterval {
		t.Fatalf("sent in %v, want at least 10 keepalive intervals", time.Since(start))
	}
	f := s.frame(t)
	if srv.closed() || f.Err != nil || !f.Last || string(f.Msg.Body) != body {
		t.Fatalf("closed %v (%v); frame %+v, %v", srv.closed(), srv.Reason(), f.Msg, f.Err)
	}
}
