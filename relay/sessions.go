package relay

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
)

// Events are optional callbacks on the relay's life; nil ones are not
// called. They run on the relay's own goroutines and must return soon
// (writing a log line is fine; a network call is not).
type Events struct {
	// OnSessionEnd is called once for every session when it ends: it
	// expired, its connection closed, the relay shut down, or an operator
	// closed it (CloseSession). Accounting hangs off it.
	OnSessionEnd func(SessionInfo)
}

// EndReason says why a session ended.
type EndReason int

// Reasons a session ends.
const (
	EndNone     EndReason = iota // the session is alive
	EndExpired                   // its Expires passed without a refreshing AUTH
	EndClosed                    // its connection closed (Detail: the transport's close reason)
	EndShutdown                  // the relay shut down
	EndAdmin                     // an operator closed it (Detail: the reason given)
	numEndReasons
)

func (r EndReason) String() string {
	switch r {
	case EndNone:
		return "none"
	case EndExpired:
		return "expired"
	case EndClosed:
		return "connection-closed"
	case EndShutdown:
		return "shutdown"
	case EndAdmin:
		return "admin-close"
	}
	return "unknown"
}

// SessionInfo describes a session (a Use-Path URI): what Sessions lists,
// and what Events.OnSessionEnd gets when the session ends. It never holds
// a password or a message body.
type SessionInfo struct {
	ID    string // the session id, the last part of URI's path
	URI   string // the Use-Path URI
	User  string
	Realm string
	// Transport is the kind of the client's connection: ws, wss, tcp or
	// tls; Peer its remote address.
	Transport string
	Peer      string
	Start     time.Time // when the AUTH made it
	Expires   time.Time // when it expires unless refreshed
	// End and EndReason are set once the session ended; Detail adds the
	// connection's close reason (EndClosed) or the operator's (EndAdmin).
	End       time.Time
	EndReason EndReason
	Detail    string
	// Idle is how long the session has carried no chunk (the time since
	// its last chunk, or since it began); listings only.
	Idle time.Duration
	// Keepalive is the probing state of the session's connection;
	// listings only.
	Keepalive keepalive.State
	// ChunksIn, BytesIn and MessagesIn count the request chunks, body
	// bytes and complete messages (SENDs ending in '$') its client sent
	// through the relay; the Out fields what the relay delivered to it.
	ChunksIn, BytesIn, MessagesIn    uint64
	ChunksOut, BytesOut, MessagesOut uint64
	// FailureReports counts the failure REPORTs and error responses the
	// relay generated for requests routed through the session.
	FailureReports uint64
}

// Duration returns how long the session lived (until now for a live one).
func (i SessionInfo) Duration() time.Duration {
	if i.End.IsZero() {
		return time.Since(i.Start)
	}
	return i.End.Sub(i.Start)
}

// info describes s at now.
func (s *session) info(now time.Time) SessionInfo {
	c := s.owner.conn
	i := SessionInfo{
		ID:             s.id,
		URI:            s.uri,
		User:           s.user,
		Realm:          s.realm,
		Transport:      c.Kind().String(),
		Peer:           s.owner.addr,
		Start:          time.Unix(0, s.start),
		Expires:        s.expiry(),
		ChunksIn:       s.st.chunksIn.Load(),
		BytesIn:        s.st.bytesIn.Load(),
		MessagesIn:     s.st.messagesIn.Load(),
		ChunksOut:      s.st.chunksOut.Load(),
		BytesOut:       s.st.bytesOut.Load(),
		MessagesOut:    s.st.messagesOut.Load(),
		FailureReports: s.st.failures.Load(),
	}
	last := time.Unix(0, max(s.start, s.last.Load()))
	i.Idle = max(now.Sub(last), 0)
	return i
}

// endSession reports the end of sess once: counted, and told to
// Events.OnSessionEnd. The caller has taken it out of the session table.
func (s *Server) endSession(sess *session, why EndReason, detail string) {
	if !sess.ended.CompareAndSwap(false, true) {
		return
	}
	s.stats.ended[why].Add(1)
	if f := s.cfg.Events.OnSessionEnd; f != nil {
		now := time.Now()
		i := sess.info(now)
		i.End, i.EndReason, i.Detail = now, why, detail
		f(i)
	}
}

// expire ends a session the table found expired.
func (s *Server) expire(sess *session) {
	sess.owner.forgetSession(sess)
	s.endSession(sess, EndExpired, "")
}

// sessionSweep is how often sessions are checked for expiry, so that one
// nobody uses ends (and is accounted for) within this long after its
// Expires, not only when it is next used or its connection closes.
const sessionSweep = time.Second

// startSessionSweep starts the expiry sweep with the first session.
func (s *Server) startSessionSweep() {
	s.sweepOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.shutting.Load() {
			s.sessionSweep = time.AfterFunc(sessionSweep, s.sweepSessions)
		}
	})
}

func (s *Server) sweepSessions() {
	for _, sess := range s.sessions.removeExpired(time.Now()) {
		s.expire(sess)
	}
	s.mu.Lock()
	if !s.shutting.Load() {
		s.sessionSweep.Reset(sessionSweep)
	}
	s.mu.Unlock()
}

// stopSessionSweep stops the sweep; s.mu held, shutting set.
func (s *Server) stopSessionSweepLocked() {
	if s.sessionSweep != nil {
		s.sessionSweep.Stop()
	}
}

// Sessions lists the live sessions, oldest first.
func (s *Server) Sessions() []SessionInfo {
	now := time.Now()
	var out []SessionInfo
	for _, sess := range s.sessions.all() {
		if sess.ended.Load() || !now.Before(sess.expiry()) {
			continue
		}
		i := sess.info(now)
		i.Keepalive = sess.owner.conn.Keepalive()
		out = append(out, i)
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return a.Start.Compare(b.Start) })
	return out
}

// ErrNoSession is returned by CloseSession for an id that names no live
// session.
var ErrNoSession = errors.New("relay: no such session")

// closeWaitPoll is how often CloseSession looks whether the session ended.
const closeWaitPoll = 5 * time.Millisecond

// CloseSession closes the connection that holds session id, for reason
// (logged with the peer, and the Detail of the sessions' end): all of the
// connection's sessions end with EndAdmin, and the senders of chunks
// forwarded over it and not answered yet get failure REPORTs, as when any
// connection closes. It returns once the session's end was reported, or
// with ctx's error when ctx ends first.
func (s *Server) CloseSession(ctx context.Context, id, reason string) error {
	sess := s.sessions.lookup(id)
	if sess == nil || sess.ended.Load() {
		return ErrNoSession
	}
	if reason == "" {
		reason = "closed by the operator"
	}
	sess.owner.close(transport.ReasonAdmin, reason+" (session "+id+", user "+sess.user+")")
	for !sess.ended.Load() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(closeWaitPoll):
		}
	}
	return nil
}

// endOf maps why a connection closed to why its sessions end.
func endOf(r transport.CloseReason) EndReason {
	switch r {
	case transport.ReasonShutdown:
		return EndShutdown
	case transport.ReasonAdmin:
		return EndAdmin
	}
	return EndClosed
}
