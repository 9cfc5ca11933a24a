package ws

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"time"
)

// testKey masks the frames tests write as a client.
const testKey = 0x1a2b3c4d

// frame builds a frame by hand, independently of frame.go: b0 is the
// first header byte (FIN, RSV bits, opcode), and the payload is masked
// when mask is set, as a client must.
func frame(b0 byte, payload []byte, mask bool) []byte {
	out := []byte{b0}
	var m byte
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		out = append(out, m|byte(n))
	case n <= 0xffff:
		out = append(out, m|126, byte(n>>8), byte(n))
	default:
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !mask {
		return append(out, payload...)
	}
	k := [4]byte{0x1a, 0x2b, 0x3c, 0x4d}
	out = append(out, k[:]...)
	for i, c := range payload {
		out = append(out, c^k[i&3])
	}
	return out
}

// inputConn is a net.Conn whose input is a fixed byte stream (io.EOF at
// its end) and whose output is kept.
type inputConn struct {
	r   io.Reader
	out bytes.Buffer
}

func (c *inputConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *inputConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *inputConn) Close() error                     { return nil }
func (c *inputConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *inputConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *inputConn) SetDeadline(time.Time) error      { return nil }
func (c *inputConn) SetReadDeadline(time.Time) error  { return nil }
func (c *inputConn) SetWriteDeadline(time.Time) error { return nil }

// control is a control frame a recorder saw.
type control struct {
	opcode  byte
	payload string
}

// recorder is a Handler that notes what the Reader hands it; err, if
// set, is what Control returns.
type recorder struct {
	before   int
	controls []control
	err      error
}

func (h *recorder) BeforeRead() { h.before++ }

func (h *recorder) Control(opcode byte, payload []byte) error {
	h.controls = append(h.controls, control{opcode, string(payload)})
	return h.err
}

// newReader is a server's (or with client set, a client's) Reader of in.
func newReader(in []byte, client bool, limit int64) (*Reader, *recorder) {
	h := &recorder{}
	r := &Reader{}
	r.Init(&inputConn{r: bytes.NewReader(in)}, nil, client, limit, h)
	return r, h
}

// readMessage reads the next message whole.
func readMessage(r *Reader) ([]byte, error) {
	if err := r.NextMessage(); err != nil {
		return nil, err
	}
	var msg []byte
	buf := make([]byte, 7) // odd, small reads: pieces cross frames
	for {
		n, err := r.Read(buf)
		msg = append(msg, buf[:n]...)
		if err == io.EOF {
			return msg, nil
		}
		if err != nil {
			return msg, err
		}
	}
}
