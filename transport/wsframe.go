package transport

import (
	"encoding/binary"
	mrand "math/rand/v2"
)

// WebSocket frames are written here rather than by gorilla, which only
// reads: gorilla writes each message with its own system call, while a
// relay wants the chunks of a burst to go out together (see hold.go), and
// a write that resumes after a partial timeout (writeStream) needs the
// frame as plain bytes. Every frame is written whole in one Write, so it
// cannot interleave with the close frames gorilla itself writes when a
// read fails.

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opText   = 1
	opBinary = 2
	opClose  = 8
	opPing   = 9
	opPong   = 10
)

// maxFrameHeader is the longest frame header: 2 bytes, 8 of length and a
// 4-byte masking key.
const maxFrameHeader = 14

// frameHeader encodes the header of an unfragmented frame (FIN set) with
// a payload of n bytes, masked with key when mask is set (clients must).
func frameHeader(h *[maxFrameHeader]byte, opcode byte, n int, mask bool, key uint32) []byte {
	h[0] = 0x80 | opcode
	var m byte
	if mask {
		m = 0x80
	}
	i := 2
	switch {
	case n <= 125:
		h[1] = m | byte(n)
	case n <= 0xffff:
		h[1] = m | 126
		binary.BigEndian.PutUint16(h[2:], uint16(n))
		i = 4
	default:
		h[1] = m | 127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
		i = 10
	}
	if mask {
		binary.BigEndian.PutUint32(h[i:], key)
		i += 4
	}
	return h[:i]
}

// maskBytes applies a client's masking key to a payload in place.
func maskBytes(b []byte, key uint32) {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	for i := range b {
		b[i] ^= k[i&3]
	}
}

// appendFrame appends one whole frame carrying payload to dst.
func (c *Conn) appendFrame(dst []byte, opcode byte, payload []byte) []byte {
	var h [maxFrameHeader]byte
	key := uint32(0)
	if c.client {
		key = mrand.Uint32()
	}
	dst = append(dst, frameHeader(&h, opcode, len(payload), c.client, key)...)
	start := len(dst)
	dst = append(dst, payload...)
	if c.client {
		maskBytes(dst[start:], key)
	}
	return dst
}

// frameInPlace turns buf, whose first maxFrameHeader bytes are reserved
// and whose rest is the payload, into one frame without copying the
// payload: the header goes right before it.
func (c *Conn) frameInPlace(buf []byte, opcode byte) []byte {
	payload := buf[maxFrameHeader:]
	var h [maxFrameHeader]byte
	key := uint32(0)
	if c.client {
		key = mrand.Uint32()
		maskBytes(payload, key)
	}
	hdr := frameHeader(&h, opcode, len(payload), c.client, key)
	start := maxFrameHeader - len(hdr)
	copy(buf[start:], hdr)
	return buf[start:]
}
