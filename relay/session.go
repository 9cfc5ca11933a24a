package relay

import (
	"sync"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// session is a Use-Path URI handed out by AUTH. It routes only over the
// connection the AUTH arrived on (RFC 4976 section 6.3) and dies with it
// or when it expires.
type session struct {
	id    string
	uri   string // as put in Use-Path
	owner *peer
	user  string
	realm string // the user's Digest realm: a refreshing AUTH is checked in it
	// back is the AUTH's From-Path: the way back to the client, nearest
	// hop first. Requests toward the client must follow it.
	back msrp.Path

	mu      sync.Mutex
	expires time.Time
	// peers are the endpoints that sent requests straight to this
	// session's client, by their URI (reuse.go, rule 4).
	peers map[string]*peer
}

func (s *session) expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}

func (s *session) refresh(until time.Time) {
	s.mu.Lock()
	s.expires = until
	s.mu.Unlock()
}

// sessionTable maps session ids to live sessions.
type sessionTable struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessionTable() *sessionTable {
	return &sessionTable{m: map[string]*session{}}
}

// get returns the session for id if it exists and has not expired; an
// expired one is removed on the way.
func (t *sessionTable) get(id string, now time.Time) *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[id]
	if s != nil && !now.Before(s.expiry()) {
		delete(t.m, id)
		s.owner.forgetSession(s)
		return nil
	}
	return s
}

func (t *sessionTable) add(s *session) {
	t.mu.Lock()
	t.m[s.id] = s
	t.mu.Unlock()
}

func (t *sessionTable) remove(s *session) {
	t.mu.Lock()
	if t.m[s.id] == s {
		delete(t.m, s.id)
	}
	t.mu.Unlock()
}

func (t *sessionTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
