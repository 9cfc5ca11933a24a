package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/userdb"
)

// userStore joins the users given by --user with those of --users-file,
// which SIGHUP re-reads without disturbing connected clients, and those
// of --users-db, asked last.
type userStore struct {
	static *relay.MemoryCredentials
	path   string
	file   atomic.Pointer[relay.MemoryCredentials]
	db     *userdb.Store // nil without --users-db
}

// newUserStore adds each --user to every realm (the default one and each
// --domain's).
func newUserStore(users []string, realms []string, path string) (*userStore, error) {
	s := &userStore{static: relay.NewMemoryCredentials(), path: path}
	for _, u := range users {
		name, pass, ok := strings.Cut(u, ":")
		if !ok || name == "" || pass == "" {
			return nil, fmt.Errorf("--user %q: want NAME:PASSWORD", name)
		}
		for _, realm := range realms {
			s.static.Add(name, realm, pass)
		}
	}
	if path != "" {
		if err := s.reload(); err != nil {
			return nil, fmt.Errorf("--users-file: %w", err)
		}
	}
	return s, nil
}

// reload re-reads the users file; on error the previous users stay.
func (s *userStore) reload() error {
	creds, err := relay.LoadHTDigest(s.path)
	if err != nil {
		return err
	}
	s.file.Store(creds)
	return nil
}

// HA1 implements relay.CredentialStore.
func (s *userStore) HA1(user, realm string) (string, bool) {
	ha1, ok, _ := s.LookupHA1(context.Background(), user, realm)
	return ha1, ok
}

// LookupHA1 implements relay.CredentialLookup: the users file, then
// --user, then the database, whose outage is the only error.
func (s *userStore) LookupHA1(ctx context.Context, user, realm string) (string, bool, error) {
	if f := s.file.Load(); f != nil {
		if ha1, ok := f.HA1(user, realm); ok {
			return ha1, true, nil
		}
	}
	if ha1, ok := s.static.HA1(user, realm); ok || s.db == nil {
		return ha1, ok, nil
	}
	return s.db.LookupHA1(ctx, user, realm)
}

// randomPassword returns 96 random bits, URL-safe.
func randomPassword() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
