package relay

import (
	"errors"
	"strings"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// route is where a request goes next and how its paths read there.
type route struct {
	dest *peer
	to   string // rewritten To-Path
	from string // rewritten From-Path
	// For failure REPORTs and error responses back to the sender.
	backTo   string // the request's From-Path as it arrived
	backFrom string // our URI that headed its To-Path
	// src is the session of the sending client when it is ours, dst the
	// session of the receiving client when it is ours: what their
	// counters count (SessionInfo). At least one is set.
	src, dst *session
}

// decision is what begin decided for a request: forward it, handle it
// here, or refuse it with a status code.
type decision struct {
	route   *route
	local   func(m *msrp.Message) // handled by the relay itself, once the chunk is in
	code    int                   // refuse with this code (0: none)
	comment string
	dropped bool // the connection was closed
}

// decide validates a request and finds its next hop (RFC 4976 sections
// 6.2 to 6.4). It never blocks on the network except to dial a next-hop
// relay.
func (p *peer) decide(m *msrp.Message) decision {
	toRaw, fromRaw := m.Header(msrp.HeaderToPath), m.Header(msrp.HeaderFromPath)
	// An AUTH comes once per session and refresh, so its paths are not
	// kept: cached, they would pin the whole AUTH request of every idle
	// connection.
	pp, err := p.paths.get(toRaw, fromRaw, m.Method != msrp.MethodAUTH)
	if err != nil {
		return refuse(400, err.Error())
	}
	to, from, toFields, fromFields := pp.to, pp.from, pp.toFields, pp.fromFields
	first := to[0]
	s := p.srv
	isAuth := m.Method == msrp.MethodAUTH
	if !s.id.isOurs(first, isAuth) {
		// RFC 4976 section 6.2: not addressed to us, drop the connection.
		p.srv.log.Warnf("%s: %s %s not addressed to this relay (To-Path %s), closing", p.addr, m.Method, m.TransactionID, first)
		p.close(transport.ReasonPolicy, "request not addressed to this relay")
		return decision{dropped: true}
	}
	if m.Method != msrp.MethodSEND && m.Method != msrp.MethodREPORT && !isAuth && s.cfg.BlockUnknownMethods {
		return refuse(501, "")
	}

	var sess *session
	if first.SessionID != "" {
		if sess = s.sessions.get(first.SessionID, p.clock()); sess == nil {
			return refuse(481, "")
		}
	}
	if len(to) == 1 {
		return p.decideLocal(m, to, from, sess)
	}
	if sess == nil {
		// Only a session URI routes; the bare relay URI does not.
		return refuse(403, "relay URI without session cannot route")
	}

	r := &route{backTo: fromRaw, backFrom: toFields[0]}
	newFrom := append([]string{toFields[0]}, fromFields...)
	rest, restFields := to[1:], toFields[1:]
	if sess.owner == p {
		// From the client outward: the previous hop is the client's own
		// connection. Its From-Path must be the one it authenticated with.
		if !samePrefix(from, sess.back) {
			return refuse(403, "From-Path does not match the session")
		}
		r.src = sess
		next := rest[0]
		if next.SessionID != "" && s.id.isOurs(next, false) {
			// Both ends are clients of this relay: deliver directly,
			// rewriting the paths as two hops would.
			sess2 := s.sessions.get(next.SessionID, p.clock())
			if sess2 == nil {
				return refuse(481, "")
			}
			if !samePrefix(rest[1:], sess2.back) {
				return refuse(403, "To-Path does not lead to the session's client")
			}
			newFrom = append([]string{restFields[0]}, newFrom...)
			r.dest, r.dst = sess2.owner, sess2
			restFields = restFields[1:]
		} else if s.id.isOurs(next, false) {
			return refuse(403, "relay URI without session cannot route")
		} else {
			dest, err := s.nextHop(next, sess)
			if err != nil {
				return p.nextHopFailed(m, sess, next, err)
			}
			r.dest = dest
		}
	} else {
		// Toward the client: the rest of the To-Path must be the way back
		// the client authenticated from.
		if !samePrefix(rest, sess.back) {
			return refuse(403, "To-Path does not lead to the session's client")
		}
		r.dest, r.dst = sess.owner, sess
		if len(from) == 1 && pp.learned != sess {
			// Straight from an endpoint: answers from the session's
			// client may come back this way (reuse.go, rule 4).
			if sess.learn(from[0], p) {
				pp.learned = sess
			}
		}
	}
	r.to = strings.Join(restFields, " ")
	r.from = strings.Join(newFrom, " ")
	return decision{route: r}
}

// decideLocal handles requests whose To-Path ends at this relay.
func (p *peer) decideLocal(m *msrp.Message, to, from msrp.Path, sess *session) decision {
	switch m.Method {
	case msrp.MethodAUTH:
		return decision{local: func(m *msrp.Message) { p.handleAuth(m, from, sess) }}
	case msrp.MethodSEND:
		if m.Body == nil {
			// A bodiless SEND to the relay is a keepalive: answer it.
			return decision{local: func(m *msrp.Message) { p.succeeded(); p.respond(m, 200, "") }}
		}
		return refuse(403, "the relay is not an endpoint")
	case msrp.MethodREPORT:
		return decision{local: func(*msrp.Message) {}}
	}
	return refuse(501, "")
}

// nextHopFailed answers a request whose next hop cannot be reached: 403
// when the outbound policy refuses it (logged and counted as such), 408
// when it could not be dialled. The sender learns nothing more: which
// rule refused the next hop, or how a dial failed, goes to the log only.
func (p *peer) nextHopFailed(m *msrp.Message, sess *session, next msrp.URI, err error) decision {
	s := p.srv
	var pe *policyError
	if errors.As(err, &pe) {
		s.stats.hopsRefused.Add(1)
		s.log.Infof("%s: %s %s from user %q: next hop %s refused by the outbound policy: %s",
			p.addr, m.Method, m.TransactionID, sess.user, next, pe.rule)
		return refuse(403, "next hop not allowed")
	}
	s.log.Infof("%s: %s %s from user %q: next hop %s unreachable: %v", p.addr, m.Method, m.TransactionID, sess.user, next, err)
	return refuse(408, "next hop unreachable")
}

func refuse(code int, comment string) decision {
	return decision{code: code, comment: comment}
}

// samePrefix reports whether path p has the shape of the session's way
// back: the same length and the same relays before the final endpoint URI.
// The endpoint's own URI may differ (clients use a URI per chat session).
func samePrefix(p, back msrp.Path) bool {
	if len(p) != len(back) {
		return false
	}
	for i := 0; i < len(p)-1; i++ {
		if !p[i].Equal(back[i]) {
			return false
		}
	}
	return true
}

// parsedPaths are a request's To-Path and From-Path, parsed and split.
type parsedPaths struct {
	toRaw, fromRaw       string
	to, from             msrp.Path
	toFields, fromFields []string
	// learned is the session these paths' From-Path is bound in
	// (reuse.go), so that the binding is not looked up for every chunk.
	learned *session
}

// pathCache keeps the last paths a connection's requests carried. Every
// chunk of a session has the same two headers, so parsing them once per
// session instead of once per chunk saves a fifth of the relay's CPU.
// Only the connection's reader goroutine uses it.
type pathCache struct{ last *parsedPaths }

var (
	errBadToPath   = errors.New("bad To-Path")
	errBadFromPath = errors.New("bad From-Path")
)

func (c *pathCache) get(toRaw, fromRaw string, keep bool) (*parsedPaths, error) {
	if l := c.last; l != nil && l.toRaw == toRaw && l.fromRaw == fromRaw {
		return l, nil
	}
	to, err := msrp.ParsePath(toRaw)
	if err != nil {
		return nil, errBadToPath
	}
	from, err := msrp.ParsePath(fromRaw)
	if err != nil {
		return nil, errBadFromPath
	}
	pp := &parsedPaths{toRaw: toRaw, fromRaw: fromRaw, to: to, from: from,
		toFields: strings.Fields(toRaw), fromFields: strings.Fields(fromRaw)}
	if keep {
		c.last = pp
	}
	return pp, nil
}
