package msrp

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"strconv"
)

// NewTransactionID returns a random transaction id of 80 bits in 16
// base-32 characters. Transaction ids need to be unpredictable enough not
// to collide, not secret, so the fast runtime generator is enough.
func NewTransactionID() string {
	var b [16]byte
	x, y := mrand.Uint64(), mrand.Uint64()
	const digits = "0123456789abcdefghijklmnopqrstuv"
	for i := 0; i < 12; i++ {
		b[i] = digits[x&31]
		x >>= 5
	}
	for i := 12; i < 16; i++ {
		b[i] = digits[y&31]
		y >>= 5
	}
	return string(b[:])
}

// NewMessageID returns a random Message-ID of 96 bits.
func NewMessageID() string {
	return strconv.FormatUint(mrand.Uint64(), 36) + strconv.FormatUint(uint64(mrand.Uint32()), 36)
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
