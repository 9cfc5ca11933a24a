package transport

import (
	"encoding/binary"
	"math/bits"
	mrand "math/rand/v2"
	"unicode/utf8"
)

// WebSocket frames are written here rather than by a WebSocket library: a
// library writes each message with its own system call, while a relay
// wants the chunks of a burst to go out together (see hold.go), and a
// write that resumes after a partial timeout (writeStream) needs the frame
// as plain bytes. Every frame is written whole in one Write, under the
// write mutex, so control frames never cut into a data frame. Frames are
// read in wsread.go.

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0
	opText         = 1
	opBinary       = 2
	opClose        = 8
	opPing         = 9
	opPong         = 10
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

// maskBytes applies a client's masking key (RFC 6455 section 5.3) in
// place to b, a piece of a payload that starts pos bytes into it, and
// returns the position after b: a payload read in several pieces is
// unmasked piece by piece. key holds the key's four bytes in wire order.
//
// It works eight bytes at a time, which makes the unmasking of a 64 KiB
// chunk several times faster than a loop over bytes.
func maskBytes(b []byte, key uint32, pos int) int {
	end := (pos + len(b)) & 3
	// Rotate the key so that its byte for b[0] comes first.
	k := bits.RotateLeft32(key, 8*(pos&3))
	if len(b) >= 8 {
		// A little-endian word holds b[0] in its low byte.
		w := uint64(bits.ReverseBytes32(k))
		w |= w << 32
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^w)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= byte(k >> (24 - 8*(i&3)))
	}
	return end
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
		maskBytes(dst[start:], key, 0)
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
		maskBytes(payload, key, 0)
	}
	hdr := frameHeader(&h, opcode, len(payload), c.client, key)
	start := maxFrameHeader - len(hdr)
	copy(buf[start:], hdr)
	return buf[start:]
}

// frameAround makes the header of an unmasked frame whose payload is
// head, body and tail, for a server's vectored write: buf holds
// maxFrameHeader reserved bytes and then head, and the returned slice of
// it is the frame header followed by head. The payload is text when it is
// valid UTF-8, else binary (RFC 7977 section 4.2); head ends and tail
// begins with ASCII, so the parts are checked apart.
func (c *Conn) frameAround(buf, body, tail []byte) []byte {
	head := buf[maxFrameHeader:]
	opcode := byte(opBinary)
	if utf8.Valid(head) && utf8.Valid(body) && utf8.Valid(tail) {
		opcode = opText
	}
	var h [maxFrameHeader]byte
	hdr := frameHeader(&h, opcode, len(head)+len(body)+len(tail), false, 0)
	start := maxFrameHeader - len(hdr)
	copy(buf[start:], hdr)
	return buf[start:]
}
