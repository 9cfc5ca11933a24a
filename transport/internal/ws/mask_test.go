package ws

import (
	"bytes"
	"testing"
)

// Mask, eight bytes at a time, must equal the byte-wise definition
// (RFC 6455 section 5.3) for every length, start position and alignment,
// also when a payload is unmasked in pieces.
func TestMask(t *testing.T) {
	const key = 0x37fa213d
	k := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 100)
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	for off := 0; off < 8; off++ { // alignment of the slice
		for n := 0; n <= len(src)-off; n++ {
			for pos := 0; pos < 4; pos++ {
				got := append([]byte(nil), src[off:off+n]...)
				end := Mask(got, key, pos)
				for i, c := range src[off : off+n] {
					if want := c ^ k[(pos+i)&3]; got[i] != want {
						t.Fatalf("off %d len %d pos %d: byte %d is %#x, want %#x", off, n, pos, i, got[i], want)
					}
				}
				if end != (pos+n)&3 {
					t.Fatalf("len %d pos %d: returned %d, want %d", n, pos, end, (pos+n)&3)
				}
			}
		}
	}
	// In pieces, as a payload read in several reads is unmasked.
	whole := append([]byte(nil), src...)
	Mask(whole, key, 0)
	pieces := append([]byte(nil), src...)
	rest, pos := pieces, 0
	for _, n := range []int{3, 17, 1, 40, 39} {
		pos = Mask(rest[:n], key, pos)
		rest = rest[n:]
	}
	if !bytes.Equal(pieces, whole) {
		t.Fatal("masking in pieces differs from masking at once")
	}
}
