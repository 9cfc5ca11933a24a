package relay

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"
)

const (
	// defaultNonceLifetime is how long an issued nonce stays fresh.
	defaultNonceLifetime = 5 * time.Minute
	// defaultMaxNonceCounts caps the nonce-count table. Each entry is a
	// nonce string plus a few words; 100000 entries is a few MB.
	defaultMaxNonceCounts = 100000

	nonceSecretLen    = 32
	minNonceSecretLen = 16
	nonceTimeLen      = 8
	// nonceSaltLen random bytes make nonces unpredictable and unique even
	// when two are issued in the same nanosecond.
	nonceSaltLen = 12
	nonceMACLen  = sha256.Size
	nonceRawLen  = nonceTimeLen + nonceSaltLen + nonceMACLen
)

// Strict so that each nonce has exactly one spelling: the nonce string is
// the key of the nonce-count table.
var nonceEncoding = base64.RawURLEncoding.Strict()

var (
	errNonceSecretShort = errors.New("relay: nonce secret shorter than 16 bytes")
	errNonceLifetime    = errors.New("relay: nonce lifetime must not be negative")
)

// ncResult is the outcome of recording a nonce count.
type ncResult int

const (
	// ncFresh: the count is higher than any seen for the nonce.
	ncFresh ncResult = iota
	// ncReplay: the count is not higher than one already seen.
	ncReplay
	// ncForgotten: the nonce is valid but its count record was evicted
	// under load, so a replay can no longer be told apart; treat the
	// nonce as stale and let the client fetch a new one.
	ncForgotten
	// ncInvalid: the nonce is not one we issued.
	ncInvalid
)

// nonceManager issues and checks stateless Digest nonces. A nonce is
// base64url(time || salt || HMAC-SHA256(secret, time || salt)), so any
// relay holding the secret can check it without shared state. Only the
// nonce-count table (replay protection) is local state, and it is bounded.
// It is safe for concurrent use.
type nonceManager struct {
	secret    []byte
	lifetime  time.Duration
	now       func() time.Time
	maxCounts int

	mu     sync.Mutex
	counts map[string]nonceCount
	// order lists the keys of counts, oldest first use first, so that
	// expiry and the size cap can drop entries without scanning the map.
	order []string
	// forgotten is the issue time of the newest nonce whose count was
	// evicted before it expired. Nonces issued up to then, with no record,
	// might be replays and are refused as stale.
	forgotten time.Time
}

// nonceCount is the highest nc seen for one nonce.
type nonceCount struct {
	nc      uint64
	expires time.Time
}

// newNonceManager returns a nonce manager. An empty secret means 32 random
// bytes (nonces then survive only as long as this process); relays in a farm
// that must accept each other's nonces share one secret. lifetime 0 means
// 5 minutes; now nil means time.Now (tests inject a clock).
func newNonceManager(secret []byte, lifetime time.Duration, now func() time.Time) (*nonceManager, error) {
	switch {
	case lifetime < 0:
		return nil, errNonceLifetime
	case lifetime == 0:
		lifetime = defaultNonceLifetime
	}
	if len(secret) == 0 {
		secret = make([]byte, nonceSecretLen)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
	} else if len(secret) < minNonceSecretLen {
		return nil, errNonceSecretShort
	} else {
		secret = append([]byte(nil), secret...) // the caller may reuse its slice
	}
	if now == nil {
		now = time.Now
	}
	return &nonceManager{
		secret:    secret,
		lifetime:  lifetime,
		now:       now,
		maxCounts: defaultMaxNonceCounts,
		counts:    make(map[string]nonceCount),
	}, nil
}

// issue returns a new nonce stamped with the current time.
func (m *nonceManager) issue() string {
	raw := make([]byte, nonceRawLen)
	binary.BigEndian.PutUint64(raw, uint64(m.now().UnixNano()))
	_, _ = rand.Read(raw[nonceTimeLen : nonceTimeLen+nonceSaltLen])
	copy(raw[nonceTimeLen+nonceSaltLen:], m.mac(raw[:nonceTimeLen+nonceSaltLen]))
	return nonceEncoding.EncodeToString(raw)
}

// check reports whether nonce was issued by us (ok) and, if the signature
// is good but the nonce is too old, stale. A nonce stamped further in the
// future than the lifetime (the clock went back) is stale too, so the client
// just retries with a fresh one.
func (m *nonceManager) check(nonce string) (ok bool, stale bool) {
	issued, valid := m.decode(nonce)
	if !valid {
		return false, false
	}
	age := m.now().Sub(issued)
	if age > m.lifetime || age < -m.lifetime {
		return false, true
	}
	return true, false
}

// useCount records nc for nonce. Call it only after the Digest response
// was verified, so that a party without the password cannot burn counts
// of someone else's nonce.
func (m *nonceManager) useCount(nonce string, nc uint64) ncResult {
	issued, valid := m.decode(nonce)
	if !valid {
		return ncInvalid
	}
	now := m.now()

	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked(now)

	e, found := m.counts[nonce]
	if found {
		if nc <= e.nc {
			return ncReplay
		}
		e.nc = nc
		m.counts[nonce] = e
		return ncFresh
	}
	if !issued.After(m.forgotten) {
		return ncForgotten
	}
	if nc == 0 { // counts start at 1 (RFC 2617 §3.2.2)
		return ncReplay
	}
	// A copy: nonce points into the parsed Authorization header, whose
	// buffer the table would otherwise keep for the nonce's lifetime.
	nonce = strings.Clone(nonce)
	m.counts[nonce] = nonceCount{nc: nc, expires: issued.Add(m.lifetime)}
	m.order = append(m.order, nonce)
	for len(m.counts) > m.maxCounts && len(m.order) > 1 {
		m.evictOldestLocked(now)
	}
	return ncFresh
}

// pruneLocked drops expired entries from the front of the order. Entries
// first used later can expire earlier; they wait until they reach the
// front, which is at most one lifetime later.
func (m *nonceManager) pruneLocked(now time.Time) {
	for len(m.order) > 0 {
		if e := m.counts[m.order[0]]; e.expires.After(now) {
			return
		}
		m.evictOldestLocked(now)
	}
}

// evictOldestLocked removes the entry first used longest ago, remembering
// its issue time if it had not expired yet.
func (m *nonceManager) evictOldestLocked(now time.Time) {
	key := m.order[0]
	m.order[0] = "" // let the string be collected before the array is
	m.order = m.order[1:]
	if e, ok := m.counts[key]; ok {
		if e.expires.After(now) {
			if issued := e.expires.Add(-m.lifetime); issued.After(m.forgotten) {
				m.forgotten = issued
			}
		}
		delete(m.counts, key)
	}
}

// decode verifies the signature of nonce and returns its issue time.
func (m *nonceManager) decode(nonce string) (issued time.Time, ok bool) {
	// Check the length first so garbage of any size costs nothing.
	if len(nonce) != nonceEncoding.EncodedLen(nonceRawLen) {
		return time.Time{}, false
	}
	raw, err := nonceEncoding.DecodeString(nonce)
	if err != nil || len(raw) != nonceRawLen {
		return time.Time{}, false
	}
	signed := raw[:nonceTimeLen+nonceSaltLen]
	if !hmac.Equal(raw[nonceTimeLen+nonceSaltLen:], m.mac(signed)) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(raw))), true
}

func (m *nonceManager) mac(b []byte) []byte {
	h := hmac.New(sha256.New, m.secret)
	h.Write(b)
	return h.Sum(nil)
}
