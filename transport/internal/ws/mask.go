package ws

import (
	"encoding/binary"
	"math/bits"
)

// Mask applies a client's masking key (RFC 6455 section 5.3) in place to
// b, a piece of a payload that starts pos bytes into it, and returns the
// position after b: a payload read in several pieces is unmasked piece by
// piece. key holds the key's four bytes in wire order. Masking twice
// unmasks.
//
// It works eight bytes at a time, which makes the unmasking of a 64 KiB
// chunk several times faster than a loop over bytes.
func Mask(b []byte, key uint32, pos int) int {
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
