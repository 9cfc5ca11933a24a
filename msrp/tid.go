package msrp

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
)

// base32Digits are all ident characters, so any string of them is a valid
// transaction or message id.
const base32Digits = "0123456789abcdefghijklmnopqrstuv"

// NewTransactionID returns a random transaction id of 80 bits in 16
// base-32 characters. Transaction ids need to be unpredictable enough not
// to collide, not secret, so the fast runtime generator is enough.
func NewTransactionID() string {
	var b [16]byte
	x, y := mrand.Uint64(), mrand.Uint64()
	for i := 0; i < 12; i++ {
		b[i] = base32Digits[x&31]
		x >>= 5
	}
	for i := 12; i < 16; i++ {
		b[i] = base32Digits[y&31]
		y >>= 5
	}
	return string(b[:])
}

// NewMessageID returns a random Message-ID of 100 bits in 20 base-32
// characters, a valid ident (RFC 4975 section 9) of fixed length.
func NewMessageID() string {
	var b [20]byte
	for i := 0; i < 20; i += 10 {
		x := mrand.Uint64()
		for j := i; j < i+10; j++ {
			b[j] = base32Digits[x&31]
			x >>= 5
		}
	}
	return string(b[:])
}

// NewSessionID returns a session id of 120 bits from crypto/rand, for URIs
// that act as capabilities (RFC 4976 section 6.3).
func NewSessionID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+).
		return ""
	}
	return hex.EncodeToString(b[:])
}
