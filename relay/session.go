package relay

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// session is a Use-Path URI handed out by AUTH. It routes only over the
// connection the AUTH arrived on (RFC 4976 section 6.3) and dies with it
// or when it expires.
//
// An idle client costs little more than its session and connection, so
// times are Unix nanoseconds and the id shares the bytes of the URI.
type session struct {
	id    string // a part of uri
	uri   string // as put in Use-Path
	owner *peer
	user  string
	realm string // the user's Digest realm: a refreshing AUTH is checked in it
	// back is the AUTH's From-Path: the way back to the client, nearest
	// hop first. Requests toward the client must follow it.
	back  msrp.Path
	start int64 // Unix nanoseconds

	mu      sync.Mutex
	expires int64 // Unix nanoseconds
	// peers are the endpoints that sent requests straight to this
	// session's client, by their URI (reuse.go, rule 4).
	peers map[string]*peer

	// ended is set by the first end (endSession), which reports it.
	ended atomic.Bool
	// last is when the session last carried a chunk (the reader's burst
	// clock, Unix nanoseconds), for its idle time.
	last atomic.Int64
	st   sessionCounters
}

// sessionCounters count what went through one session. "In" is what its
// client sent into the relay, "out" what the relay delivered to it.
type sessionCounters struct {
	chunksIn, bytesIn, messagesIn    atomic.Uint64
	chunksOut, bytesOut, messagesOut atomic.Uint64
	// failures counts the failure REPORTs and error responses the relay
	// generated for requests routed through the session.
	failures atomic.Uint64
}

func (s *session) expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Unix(0, s.expires)
}

func (s *session) refresh(until time.Time) {
	s.mu.Lock()
	s.expires = until.UnixNano()
	s.mu.Unlock()
}

// active notes that the session carried a chunk at now (a burst's clock,
// so most chunks find it set already).
func (s *session) active(now time.Time) {
	if ns := now.UnixNano(); s.last.Load() != ns {
		s.last.Store(ns)
	}
}

// sessionTable maps session ids to live sessions.
type sessionTable struct {
	mu sync.Mutex
	m  map[string]*session
	// expired is told of each session get finds expired (Server.expire).
	expired func(*session)
}

func newSessionTable(expired func(*session)) *sessionTable {
	return &sessionTable{m: map[string]*session{}, expired: expired}
}

// get returns the session for id if it exists and has not expired; an
// expired one is removed on the way.
func (t *sessionTable) get(id string, now time.Time) *session {
	t.mu.Lock()
	s := t.m[id]
	if s != nil && !now.Before(s.expiry()) {
		delete(t.m, id)
		t.mu.Unlock()
		t.expired(s)
		return nil
	}
	t.mu.Unlock()
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

// lookup returns the session for id, expired or not.
func (t *sessionTable) lookup(id string) *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

// all returns the sessions in the table.
func (t *sessionTable) all() []*session {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*session, 0, len(t.m))
	for _, s := range t.m {
		out = append(out, s)
	}
	return out
}

// removeExpired takes every session expired at now out of the table and
// returns them.
func (t *sessionTable) removeExpired(now time.Time) []*session {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*session
	for id, s := range t.m {
		if !now.Before(s.expiry()) {
			delete(t.m, id)
			out = append(out, s)
		}
	}
	return out
}
