package transport

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// fuzzConn is a net.Conn that reads a fixed input and discards what is
// written: Pongs and close frames.
type fuzzConn struct{ r *bytes.Reader }

func (c *fuzzConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fuzzConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *fuzzConn) Close() error                     { return nil }
func (c *fuzzConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fuzzConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzWSReader feeds arbitrary bytes to a WebSocket Conn's reader, as a
// server (client false) or as a client: it must never panic or hang, and
// every piece it returns must respect the configured limits: pieces
// before a chunk's last are PieceSize bytes, and a last piece is empty
// only when the whole body is.
func FuzzWSReader(f *testing.F) {
	chunk := mustWire(sendReq("fuzz0001", "hello"))
	f.Add(wsFrame(0x81, chunk, true), false)
	f.Add(wsFrame(0x82, chunk, false), true)
	f.Add(bytes.Join([][]byte{
		wsFrame(0x01, chunk[:20], true),
		wsFrame(0x80|ws.OpPing, []byte("p"), true),
		wsFrame(0x00, chunk[20:], true),
		wsFrame(0x80, nil, true),
		wsFrame(0x80|ws.OpPong, nil, true),
		wsFrame(0x80|ws.OpClose, closePayload(1000, "bye"), true),
	}, nil), false)
	f.Add(append(mustWire(sendReq("fuzz0002", "")), chunk...), false)
	f.Add([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, false)
	f.Add([]byte{0x81, 0x7e, 0x01}, true)

	h, err := New(Config{
		MaxChunk:      1 << 10,
		MaxHeader:     1 << 10,
		PieceSize:     100,
		Keepalive:     keepalive.Config{Interval: -1},
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: io.Discard},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, client bool) {
		// The first half comes as if read past the handshake: frames cross
		// from the buffered bytes to the connection anywhere.
		half := min(len(data)/2, ws.HandshakeBuffer)
		c, err := h.newConn(KindWS, &fuzzConn{bytes.NewReader(data[half:])}, client)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ReasonLocal, "fuzz over")
		c.wsr.Preload(data[:half])
		// Every Frame consumes input, at least a frame header per message
		// or a body byte per piece: more Frames than bytes is a loop.
		for n := 0; ; n++ {
			fr, err := c.Read()
			if err != nil {
				if !IsClosed(err) || c.Reason() == ReasonNone {
					t.Fatalf("Read: %v with reason %v, want a close", err, c.Reason())
				}
				return
			}
			if n > len(data) {
				t.Fatalf("%d Frames from %d bytes", n, len(data))
			}
			if len(fr.Msg.Body) > h.cfg.PieceSize || fr.Offset+int64(len(fr.Msg.Body)) > int64(h.cfg.MaxChunk) {
				t.Fatalf("piece of %d bytes at %d", len(fr.Msg.Body), fr.Offset)
			}
			if fr.Err == nil && fr.Msg.Body != nil && (!fr.Last && len(fr.Msg.Body) != h.cfg.PieceSize ||
				fr.Last && len(fr.Msg.Body) == 0 && fr.Offset > 0) {
				t.Fatalf("piece of %d bytes at %d, last %v", len(fr.Msg.Body), fr.Offset, fr.Last)
			}
		}
	})
}
