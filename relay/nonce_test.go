package relay

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for nonce and auth tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var testSecret = bytes.Repeat([]byte{0x42}, 32)

func newTestNonces(t *testing.T, clock *fakeClock) *nonceManager {
	t.Helper()
	m, err := newNonceManager(testSecret, time.Minute, clock.now)
	if err != nil {
		t.Fatalf("newNonceManager: %v", err)
	}
	return m
}

func TestNewNonceManager(t *testing.T) {
	tests := []struct {
		name         string
		secret       []byte
		lifetime     time.Duration
		want         error
		wantLifetime time.Duration
	}{
		{name: "defaults", wantLifetime: defaultNonceLifetime},
		{name: "given", secret: testSecret, lifetime: time.Second, wantLifetime: time.Second},
		{name: "short secret", secret: []byte("short"), want: errNonceSecretShort},
		{name: "negative lifetime", lifetime: -time.Second, want: errNonceLifetime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newNonceManager(tc.secret, tc.lifetime, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("newNonceManager() error = %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if m.lifetime != tc.wantLifetime {
				t.Errorf("lifetime = %v, want %v", m.lifetime, tc.wantLifetime)
			}
			if len(m.secret) < minNonceSecretLen {
				t.Errorf("secret length = %d", len(m.secret))
			}
			if ok, stale := m.check(m.issue()); !ok || stale {
				t.Errorf("check(issue()) = %v, %v, want true, false", ok, stale)
			}
		})
	}
}

func TestNonceSecretCopied(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, 32)
	m, err := newNonceManager(secret, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := m.issue()
	secret[0] = 2 // the caller reusing its buffer must not change our key
	if ok, _ := m.check(n); !ok {
		t.Fatal("nonce rejected after caller modified its secret slice")
	}
}

func TestNonceCheck(t *testing.T) {
	clock := newFakeClock()
	m := newTestNonces(t, clock)
	other, err := newNonceManager(bytes.Repeat([]byte{0x43}, 32), time.Minute, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	good := m.issue()
	flipped := []byte(good)
	if flipped[10] == 'A' {
		flipped[10] = 'B'
	} else {
		flipped[10] = 'A'
	}

	tests := []struct {
		name      string
		nonce     string
		advance   time.Duration
		wantOK    bool
		wantStale bool
	}{
		{name: "fresh", nonce: good, wantOK: true},
		{name: "tampered", nonce: string(flipped)},
		{name: "other secret", nonce: other.issue()},
		{name: "truncated", nonce: good[:len(good)-1]},
		{name: "extended", nonce: good + "A"},
		{name: "empty", nonce: ""},
		{name: "garbage of right length", nonce: string(bytes.Repeat([]byte{'!'}, len(good)))},
		{name: "still fresh at lifetime", nonce: good, advance: time.Minute, wantOK: true},
		{name: "stale after lifetime", nonce: good, advance: time.Second, wantStale: true},
		{name: "tampered stays invalid when old", nonce: string(flipped)},
	}
	// The cases run in order and share the clock.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock.advance(tc.advance)
			ok, stale := m.check(tc.nonce)
			if ok != tc.wantOK || stale != tc.wantStale {
				t.Errorf("check(%q) = %v, %v, want %v, %v", tc.nonce, ok, stale, tc.wantOK, tc.wantStale)
			}
		})
	}
}

func TestNonceFromFuture(t *testing.T) {
	clock := newFakeClock()
	m := newTestNonces(t, clock)
	n := m.issue()
	clock.advance(-2 * time.Minute) // the wall clock was set back
	if ok, stale := m.check(n); ok || !stale {
		t.Errorf("check(future nonce) = %v, %v, want false, true", ok, stale)
	}
}

func TestNonceSharedSecret(t *testing.T) {
	// Relays of a farm share the secret and accept each other's nonces.
	clock := newFakeClock()
	a, b := newTestNonces(t, clock), newTestNonces(t, clock)
	if ok, _ := b.check(a.issue()); !ok {
		t.Error("nonce of a rejected by b with the same secret")
	}
}

func TestNonceUnique(t *testing.T) {
	m := newTestNonces(t, newFakeClock()) // same instant for every nonce
	seen := make(map[string]bool)
	for range 1000 {
		n := m.issue()
		if seen[n] {
			t.Fatalf("issue() repeated %q", n)
		}
		seen[n] = true
	}
}

func TestNonceCount(t *testing.T) {
	m := newTestNonces(t, newFakeClock())
	n1, n2 := m.issue(), m.issue()
	steps := []struct {
		name  string
		nonce string
		nc    uint64
		want  ncResult
	}{
		{"zero is never valid", n1, 0, ncReplay},
		{"first", n1, 1, ncFresh},
		{"same again", n1, 1, ncReplay},
		{"next", n1, 2, ncFresh},
		{"skip ahead", n1, 5, ncFresh},
		{"lower", n1, 3, ncReplay},
		{"other nonce has its own count", n2, 1, ncFresh},
		{"not ours", "bogus", 1, ncInvalid},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if got := m.useCount(s.nonce, s.nc); got != s.want {
				t.Errorf("useCount(nonce, %d) = %v, want %v", s.nc, got, s.want)
			}
		})
	}
}

func TestNonceCountExpiry(t *testing.T) {
	clock := newFakeClock()
	m := newTestNonces(t, clock)
	for range 10 {
		if got := m.useCount(m.issue(), 1); got != ncFresh {
			t.Fatalf("useCount = %v, want fresh", got)
		}
	}
	clock.advance(time.Minute + time.Second)
	m.useCount(m.issue(), 1) // any use prunes expired entries
	m.mu.Lock()
	n, order := len(m.counts), len(m.order)
	m.mu.Unlock()
	if n != 1 || order != 1 {
		t.Errorf("after expiry: %d counts, %d order entries, want 1, 1", n, order)
	}
}

func TestNonceCountCap(t *testing.T) {
	clock := newFakeClock()
	m := newTestNonces(t, clock)
	m.maxCounts = 3
	var nonces []string
	for range 4 {
		n := m.issue()
		nonces = append(nonces, n)
		clock.advance(time.Millisecond)
		if got := m.useCount(n, 1); got != ncFresh {
			t.Fatalf("useCount = %v, want fresh", got)
		}
	}
	m.mu.Lock()
	size := len(m.counts)
	m.mu.Unlock()
	if size != 3 {
		t.Fatalf("table size = %d, want cap 3", size)
	}
	// The evicted nonce could be replayed now, so it is refused as stale.
	if got := m.useCount(nonces[0], 2); got != ncForgotten {
		t.Errorf("useCount(evicted nonce) = %v, want forgotten", got)
	}
	// Nonces still in the table keep their counts.
	if got := m.useCount(nonces[3], 1); got != ncReplay {
		t.Errorf("useCount(kept nonce, same nc) = %v, want replay", got)
	}
	// Nonces issued after the eviction work normally.
	if got := m.useCount(m.issue(), 1); got != ncFresh {
		t.Errorf("useCount(new nonce) = %v, want fresh", got)
	}
}

func TestNonceConcurrent(t *testing.T) {
	m := newTestNonces(t, newFakeClock())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 200 {
				n := m.issue()
				if ok, _ := m.check(n); !ok {
					t.Error("check(issue()) failed")
					return
				}
				if got := m.useCount(n, uint64(i+1)); got != ncFresh {
					t.Errorf("useCount = %v, want fresh", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
