package ws

import (
	"encoding/binary"
	mrand "math/rand/v2"
	"unicode/utf8"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpContinuation = 0
	OpText         = 1
	OpBinary       = 2
	OpClose        = 8
	OpPing         = 9
	OpPong         = 10
)

// MaxFrameHeader is the longest frame header: 2 bytes, 8 of length and a
// 4-byte masking key.
const MaxFrameHeader = 14

// MaxControlPayload bounds the payload of a control frame (RFC 6455
// section 5.5).
const MaxControlPayload = 125

// header encodes the header of an unfragmented frame (FIN set) with a
// payload of n bytes, masked with key when mask is set (clients must).
func header(h *[MaxFrameHeader]byte, opcode byte, n int, mask bool, key uint32) []byte {
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

// AppendFrame appends one whole unfragmented frame carrying payload to
// dst. A client (mask set) masks it with a fresh key; payload itself is
// left as it was.
func AppendFrame(dst []byte, opcode byte, payload []byte, mask bool) []byte {
	var h [MaxFrameHeader]byte
	key := uint32(0)
	if mask {
		key = mrand.Uint32()
	}
	dst = append(dst, header(&h, opcode, len(payload), mask, key)...)
	start := len(dst)
	dst = append(dst, payload...)
	if mask {
		Mask(dst[start:], key, 0)
	}
	return dst
}

// FrameInPlace turns buf, whose first MaxFrameHeader bytes are reserved
// and whose rest is the payload, into one frame without copying the
// payload: the header goes right before it, and the returned slice of
// buf is the frame. A client (mask set) masks the payload in place.
func FrameInPlace(buf []byte, opcode byte, mask bool) []byte {
	payload := buf[MaxFrameHeader:]
	var h [MaxFrameHeader]byte
	key := uint32(0)
	if mask {
		key = mrand.Uint32()
		Mask(payload, key, 0)
	}
	return prepend(buf, header(&h, opcode, len(payload), mask, key))
}

// FrameAround makes the header of an unmasked (server's) frame whose
// payload is head, body and tail, for a vectored write: buf holds
// MaxFrameHeader reserved bytes and then head, and the returned slice of
// it is the frame header followed by head. The frame is text when the
// payload is valid UTF-8, else binary; head must end and tail begin with
// ASCII (as an MSRP chunk's do), so that the parts can be checked apart.
func FrameAround(buf, body, tail []byte) []byte {
	head := buf[MaxFrameHeader:]
	opcode := byte(OpBinary)
	if utf8.Valid(head) && utf8.Valid(body) && utf8.Valid(tail) {
		opcode = OpText
	}
	var h [MaxFrameHeader]byte
	return prepend(buf, header(&h, opcode, len(head)+len(body)+len(tail), false, 0))
}

// prepend puts hdr at the end of buf's MaxFrameHeader reserved bytes,
// right before what follows them, and returns the slice of buf from hdr.
func prepend(buf, hdr []byte) []byte {
	start := MaxFrameHeader - len(hdr)
	copy(buf[start:], hdr)
	return buf[start:]
}

// DataOpcode picks a text frame for a payload that is valid UTF-8, else a
// binary one (RFC 7977 section 4.2 lets either carry MSRP).
func DataOpcode(payload []byte) byte {
	if utf8.Valid(payload) {
		return OpText
	}
	return OpBinary
}
