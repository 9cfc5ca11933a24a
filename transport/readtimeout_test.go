package transport

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// The read timeouts (F6): a chunk begun must finish its header block
// within HeaderTimeout and must not stall inside its body for
// BodyTimeout, over TCP and WebSocket; a body that keeps moving, however
// slowly, and a connection silent between chunks are left alone. A
// timeout closes with ReasonReadTimeout (WebSocket close code 1008) and a
// log line naming the peer and the timeout.
func TestReadTimeouts(t *testing.T) {
	leakCheck(t)
	const (
		headerTimeout = 300 * time.Millisecond
		bodyTimeout   = 200 * time.Millisecond
		tick          = 10 * time.Millisecond // one byte per tick when trickling
	)
	body := strings.Repeat("b", 20)
	chunk := string(mustWire(sendReq("slow0001", body)))
	head := chunk[:strings.Index(chunk, "\r\n\r\n")+4]
	tests := []struct {
		name string
		// send writes to the peer's socket, a frame at a time on
		// WebSocket, until stop is closed.
		send       func(w *trickler)
		wantClosed string // the log's detail; "" means it stays open
	}{
		{"header trickled forever", func(w *trickler) { w.trickle(chunk[:len(head)-4]+strings.Repeat("X-Pad: x\r\n", 100), tick) },
			"header block not complete within 300ms"},
		{"body stalls", func(w *trickler) { w.write(head + "bbbb"); w.idle() }, "no data for 200ms inside a chunk"},
		{"body trickled steadily", func(w *trickler) { w.write(head); w.trickle(chunk[len(head):], tick); w.idle() }, ""},
		{"silent between chunks", func(w *trickler) { w.whole(chunk); w.idle() }, ""},
	}
	for _, kind := range []string{"tcp", "ws"} {
		for _, tc := range tests {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				var logs logBuffer
				got := make(serverConns, 1)
				frames := make(chan Frame, 64)
				cfg := Config{HeaderTimeout: headerTimeout, BodyTimeout: bodyTimeout,
					Keepalive: keepalive.Config{Interval: -1}, LoggerFactory: testLogger(&logs)}
				w := &trickler{t: t, stop: make(chan struct{}), ws: kind == "ws"}
				if kind == "ws" {
					w.raw = dialWSRaw(t, startWS(t, cfg, holdHandler(got, false, frames)))
					w.nc = w.raw.nc
				} else {
					nc, err := net.Dial("tcp", startStream(t, cfg, holdHandler(got, false, frames)))
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { nc.Close() })
					w.nc = nc
				}
				srv := waitConn(t, got)
				done := make(chan struct{})
				go func() { defer close(done); tc.send(w) }()
				defer func() { close(w.stop); <-done }()
				if tc.wantClosed == "" {
					// Well past both timeouts: still open, and the chunk
					// arrived whole.
					time.Sleep(time.Duration(len(chunk)-len(head))*tick + 3*headerTimeout)
					if srv.closed() {
						t.Fatalf("closed: %v", srv.Reason())
					}
					var got string
					for len(frames) > 0 {
						got += string((<-frames).Msg.Body)
					}
					if got != body {
						t.Errorf("body %q, want %q", got, body)
					}
					return
				}
				start := time.Now()
				waitClosed(t, srv, 5*time.Second)
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("closed after %v", d)
				}
				if srv.Reason() != ReasonReadTimeout {
					t.Errorf("reason %v, want read-timeout", srv.Reason())
				}
				waitLog(t, &logs, "closed "+kind+" connection with "+w.nc.LocalAddr().String()+": read-timeout ("+tc.wantClosed+")")
				if kind == "ws" {
					if code := w.raw.expectClose(); code != 1008 {
						t.Errorf("close code %d, want 1008 (policy violation)", code)
					}
				}
			})
		}
	}
}

// trickler writes MSRP to a server, over TCP as bytes or over WebSocket
// with each write a frame of a fragmented message (so that a Ping could be
// answered between them), until stop is closed.
type trickler struct {
	t     *testing.T
	nc    net.Conn
	raw   *wsRaw // the WebSocket peer, nil on TCP
	ws    bool
	stop  chan struct{}
	inMsg bool // a WebSocket message is open
}

// write sends s: on WebSocket as the next fragment of the open message.
func (w *trickler) write(s string) {
	b := []byte(s)
	if w.ws {
		op := byte(ws.OpText)
		if w.inMsg {
			op = ws.OpContinuation
		}
		w.inMsg = true
		b = wsFrame(op, b, true) // no FIN: the message goes on
	}
	_, _ = w.nc.Write(b)
}

// trickle writes s a byte at a time, one every tick.
func (w *trickler) trickle(s string, tick time.Duration) {
	for i := range len(s) {
		select {
		case <-w.stop:
			return
		case <-time.After(tick):
		}
		w.write(s[i : i+1])
	}
	if w.ws {
		_, _ = w.nc.Write(wsFrame(0x80, nil, true)) // the message's end
		w.inMsg = false
	}
}

// whole sends s as is, or as one whole message on WebSocket.
func (w *trickler) whole(s string) {
	b := []byte(s)
	if w.ws {
		b = wsFrame(0x80|ws.OpText, b, true)
	}
	_, _ = w.nc.Write(b)
}

// idle waits for stop.
func (w *trickler) idle() { <-w.stop }

// The header timeout runs from each chunk's own first byte: a chunk whose
// header began right after a slow earlier one (no wait between them, so
// the reader never waited idle) gets its full HeaderTimeout.
func TestHeaderTimeoutPerChunk(t *testing.T) {
	leakCheck(t)
	const headerTimeout = 400 * time.Millisecond
	a := string(mustWire(sendReq("hdra0001", "first")))
	b := string(mustWire(sendReq("hdrb0002", "second")))
	for _, kind := range []string{"tcp", "ws"} {
		t.Run(kind, func(t *testing.T) {
			got := make(serverConns, 1)
			frames := make(chan Frame, 8)
			cfg := Config{HeaderTimeout: headerTimeout, Keepalive: keepalive.Config{Interval: -1}}
			var nc net.Conn
			if kind == "ws" {
				nc = dialWSRaw(t, startWS(t, cfg, holdHandler(got, false, frames))).nc
			} else {
				var err error
				if nc, err = net.Dial("tcp", startStream(t, cfg, holdHandler(got, false, frames))); err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
			}
			srv := waitConn(t, got)
			// On WebSocket each chunk is a message; each write below is a
			// fragment of it.
			write := func(s string, b0 byte) {
				if kind == "ws" {
					nc.Write(wsFrame(b0, []byte(s), true))
				} else {
					nc.Write([]byte(s))
				}
			}
			write(a[:20], ws.OpText)              // a's header begins
			time.Sleep(3 * headerTimeout / 4)     // a's header takes 300 ms
			write(a[20:], 0x80|ws.OpContinuation) // a ends
			write(b[:20], ws.OpText)              // b's header begins at once
			time.Sleep(headerTimeout * 5 / 8)     // 250 ms: past a's start + timeout
			write(b[20:], 0x80|ws.OpContinuation) // b ends in time
			time.Sleep(100 * time.Millisecond)
			if srv.closed() {
				t.Fatalf("closed: %v", srv.Reason())
			}
			for _, want := range []string{"first", "second"} {
				select {
				case f := <-frames:
					if string(f.Msg.Body) != want {
						t.Errorf("body %q, want %q", f.Msg.Body, want)
					}
				case <-time.After(time.Second):
					t.Fatalf("no chunk %q", want)
				}
			}
		})
	}
}
