package relay

import (
	"crypto/md5"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestHA1(t *testing.T) {
	tests := []struct {
		name, user, realm, password string
	}{
		{"rfc 2617 example", "Mufasa", "testrealm@host.com", "Circle Of Life"},
		{"empty password", "alice", "example.com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := fmt.Sprintf("%x", md5.Sum([]byte(tc.user+":"+tc.realm+":"+tc.password)))
			if got := HA1(tc.user, tc.realm, tc.password); got != want {
				t.Errorf("HA1(%q, %q, ...) = %q, want %q", tc.user, tc.realm, got, want)
			}
		})
	}
	// Published value of the RFC 2617 §3.5 example.
	if got := HA1("Mufasa", "testrealm@host.com", "Circle Of Life"); got != "939e7578ed9e3c518a452acee763bce9" {
		t.Errorf("HA1(RFC 2617 example) = %q", got)
	}
}

func TestMemoryCredentials(t *testing.T) {
	c := NewMemoryCredentials()
	c.Add("alice", "example.com", "secret")
	c.AddHA1("bob", "example.com", "0123456789ABCDEF0123456789ABCDEF")
	tests := []struct {
		name, user, realm string
		want              string
		wantOK            bool
	}{
		{"password", "alice", "example.com", HA1("alice", "example.com", "secret"), true},
		{"ha1 lower-cased", "bob", "example.com", "0123456789abcdef0123456789abcdef", true},
		{"unknown user", "carol", "example.com", "", false},
		{"other realm", "alice", "example.org", "", false},
		{"user is case-sensitive", "Alice", "example.com", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := c.HA1(tc.user, tc.realm)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("HA1(%q, %q) = %q, %v, want %q, %v", tc.user, tc.realm, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestMemoryCredentialsConcurrent(t *testing.T) {
	c := NewMemoryCredentials()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 100 {
				user := fmt.Sprintf("u%d-%d", i, j)
				c.Add(user, "r", "p")
				if _, ok := c.HA1(user, "r"); !ok {
					t.Errorf("HA1(%q) not found after Add", user)
					return
				}
			}
		})
	}
	wg.Wait()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htdigest")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadHTDigest(t *testing.T) {
	aliceHA1 := HA1("alice", "example.com", "secret")
	bobHA1 := HA1("bob", "msrp:relay", "hunter2")
	content := "# msrpd users\n" +
		"\n" +
		"alice:example.com:" + aliceHA1 + "\r\n" +
		"   # indented comment\n" +
		"bob:msrp:relay:" + strings.ToUpper(bobHA1) + "\n" +
		"  \t \n"
	c, err := LoadHTDigest(writeFile(t, content))
	if err != nil {
		t.Fatalf("LoadHTDigest: %v", err)
	}
	tests := []struct {
		name, user, realm, want string
	}{
		{"plain", "alice", "example.com", aliceHA1},
		{"realm with colon, upper-case hex", "bob", "msrp:relay", bobHA1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := c.HA1(tc.user, tc.realm); !ok || got != tc.want {
				t.Errorf("HA1(%q, %q) = %q, %v, want %q", tc.user, tc.realm, got, ok, tc.want)
			}
		})
	}
}

func TestLoadHTDigestBadLines(t *testing.T) {
	good := "alice:example.com:" + HA1("alice", "example.com", "secret") + "\n"
	secretHA1 := HA1("bob", "example.com", "hunter2")
	tests := []struct {
		name     string
		content  string
		wantLine string
	}{
		{"no colon", good + "bob\n", ":2:"},
		{"one colon", "# c\n" + good + "bob:" + secretHA1 + "\n", ":3:"},
		{"empty user", ":example.com:" + secretHA1 + "\n", ":1:"},
		{"empty realm", "bob::" + secretHA1 + "\n", ":1:"},
		{"short HA1", good + "bob:example.com:" + secretHA1[:31] + "\n", ":2:"},
		{"long HA1", good + "bob:example.com:" + secretHA1 + "0\n", ":2:"},
		{"non-hex HA1", good + "bob:example.com:" + secretHA1[:31] + "g\n", ":2:"},
		{"plain password", good + "bob:example.com:hunter2\n", ":2:"},
		{"duplicate", good + "\n" + good, ":3:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.content)
			_, err := LoadHTDigest(path)
			if !errors.Is(err, errHTDigestLine) {
				t.Fatalf("LoadHTDigest = %v, want %v", err, errHTDigestLine)
			}
			msg := err.Error()
			if !strings.Contains(msg, path+tc.wantLine) {
				t.Errorf("error %q does not name %s%s", msg, path, tc.wantLine)
			}
			for _, secret := range []string{secretHA1, secretHA1[:31], "hunter2"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q leaks a secret", msg)
				}
			}
		})
	}
}

func TestLoadHTDigestMissingFile(t *testing.T) {
	_, err := LoadHTDigest(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadHTDigest(missing) = %v, want os.ErrNotExist", err)
	}
}
