package relay

import (
	"bufio"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/msrpd/msrpd/internal/digest"
)

// ha1Len is the length of a hex MD5 digest.
const ha1Len = 2 * md5.Size

var errHTDigestLine = errors.New("relay: bad htdigest line")

// CredentialStore looks up Digest credentials. The relay asks only for
// HA1 = hex(MD5(user ":" realm ":" password)), so a store never needs to
// hold plain passwords. Implementations must be safe for concurrent use.
type CredentialStore interface {
	// HA1 returns the lower-case hex HA1 of user in realm, and false if
	// the user is unknown there.
	HA1(user, realm string) (ha1 string, ok bool)
}

// CredentialLookup is a CredentialStore that can fail to answer, such as
// a database (package userdb). The relay asks it through LookupHA1 and
// answers an AUTH it cannot check with 500, not 401: an outage is not a
// wrong password, and it counts as no failed attempt. Its HA1 method is
// used by nobody but callers of the plain interface.
type CredentialLookup interface {
	CredentialStore
	// LookupHA1 is HA1 with a deadline and an error for "could not ask".
	LookupHA1(ctx context.Context, user, realm string) (ha1 string, ok bool, err error)
}

// HA1 returns hex(MD5(user ":" realm ":" password)), the value a
// CredentialStore returns and an htdigest file stores.
func HA1(user, realm, password string) string {
	return digest.HA1(user, realm, password)
}

// MemoryCredentials is a CredentialStore held in memory. It is safe for
// concurrent use, so entries may be added while the relay runs.
type MemoryCredentials struct {
	mu  sync.RWMutex
	ha1 map[credKey]string
}

type credKey struct{ user, realm string }

// NewMemoryCredentials returns an empty store.
func NewMemoryCredentials() *MemoryCredentials {
	return &MemoryCredentials{ha1: make(map[credKey]string)}
}

// Add sets the password of user in realm. Only its HA1 is kept.
func (m *MemoryCredentials) Add(user, realm, password string) {
	m.AddHA1(user, realm, HA1(user, realm, password))
}

// AddHA1 sets the HA1 of user in realm. ha1 should be 32 hex digits; it is
// lower-cased because the Digest response hashes its text form. A value
// that is not an MD5 hex digest never matches any response.
func (m *MemoryCredentials) AddHA1(user, realm, ha1 string) {
	m.mu.Lock()
	m.ha1[credKey{user, realm}] = strings.ToLower(ha1)
	m.mu.Unlock()
}

// HA1 implements CredentialStore.
func (m *MemoryCredentials) HA1(user, realm string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ha1, ok := m.ha1[credKey{user, realm}]
	return ha1, ok
}

// LoadHTDigest reads an Apache htdigest file: one "user:realm:HA1" per
// line, blank lines and lines starting with '#' ignored. A malformed line
// or a repeated user and realm is an error naming the file and line (but
// never the HA1, which is as good as a password to an attacker).
func LoadHTDigest(path string) (*MemoryCredentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("relay: htdigest: %w", err)
	}
	defer f.Close()
	return readHTDigest(f, path)
}

// readHTDigest parses htdigest content; name is used in errors.
func readHTDigest(r io.Reader, name string) (*MemoryCredentials, error) {
	creds := NewMemoryCredentials()
	firstLine := make(map[credKey]int)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text()) // also drops CR of CRLF files
		if line == "" || line[0] == '#' {
			continue
		}
		// The user ends at the first colon and the HA1 starts after the
		// last one, so a realm may itself contain colons.
		first, last := strings.IndexByte(line, ':'), strings.LastIndexByte(line, ':')
		if first < 0 || first == last {
			return nil, fmt.Errorf("%w: %s:%d: want user:realm:HA1", errHTDigestLine, name, n)
		}
		user, realm, ha1 := line[:first], line[first+1:last], line[last+1:]
		switch {
		case user == "":
			return nil, fmt.Errorf("%w: %s:%d: empty user", errHTDigestLine, name, n)
		case realm == "":
			return nil, fmt.Errorf("%w: %s:%d: empty realm", errHTDigestLine, name, n)
		case !isHexLen(ha1, ha1Len):
			return nil, fmt.Errorf("%w: %s:%d: HA1 must be %d hex digits", errHTDigestLine, name, n, ha1Len)
		}
		key := credKey{user, realm}
		if prev, dup := firstLine[key]; dup {
			return nil, fmt.Errorf("%w: %s:%d: user %q in realm %q already defined on line %d",
				errHTDigestLine, name, n, user, realm, prev)
		}
		firstLine[key] = n
		creds.AddHA1(user, realm, ha1)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("relay: htdigest %s: %w", name, err)
	}
	return creds, nil
}

// isHexLen reports whether s is exactly n hex digits.
func isHexLen(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
