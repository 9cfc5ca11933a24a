package relay

import (
	"strconv"
	"strings"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// handleAuth answers an AUTH addressed to this relay (RFC 4976 sections
// 5.1 and 6.3): 401 with a Digest challenge until the credentials are
// right, 423 for an unacceptable Expires, and a 200 carrying Use-Path,
// Expires and Authentication-Info. An AUTH to one of this connection's
// session URIs refreshes that session instead of making a new one.
func (p *peer) handleAuth(m *msrp.Message, from msrp.Path, sess *session) {
	s := p.srv
	toFields := strings.Fields(m.Header(msrp.HeaderToPath))
	digestURI := toFields[len(toFields)-1]
	// The realm is the domain the AUTH is addressed to (Config.Domains);
	// a refresh stays in the realm its session was made in.
	var realm, useHost string
	if to, err := msrp.ParseURI(toFields[0]); err == nil {
		realm, useHost = s.domains.lookup(to.Host, &s.cfg)
	} else {
		realm, useHost = s.cfg.Realm, s.cfg.Host
	}
	if sess != nil {
		realm = sess.realm
	}

	src := sourceOf(p.addr)
	if s.authLim.blocked(src, time.Now()) {
		s.stats.auth[authRefused].Add(1)
		s.log.Warnf("%s: AUTH refused: too many failed AUTHs from %s, closing", p.addr, src)
		p.close(transport.ReasonPolicy, "too many failed AUTHs from this address")
		return
	}
	hdr := m.Authorization()
	if hdr == "" {
		s.stats.auth[authChallenged].Add(1)
		p.challenge(m, realm, false)
		return
	}
	res := authResult{reason: "malformed Authorization header"}
	if authz, err := digest.Parse(hdr); err == nil {
		res = s.auth.verifyIn(authz, digestURI, realm)
	}
	if res.unavailable != nil {
		// Not the client's fault: no failed attempt counted, and the
		// client may try again (another relay of the farm, or later).
		s.stats.authUnavailable.Add(1)
		s.stats.auth[authUnavailable].Add(1)
		s.log.Warnf("%s: AUTH for user %q in realm %q answered 500: credentials unavailable: %v", p.addr, res.user, realm, res.unavailable)
		p.respond(m, 500, "credentials unavailable")
		return
	}
	if !res.ok {
		s.log.Infof("%s: AUTH failed for user %q: %s", p.addr, res.user, res.reason)
		s.stats.authFailures.Add(1)
		if res.stale {
			s.stats.auth[authChallenged].Add(1)
		} else {
			s.stats.auth[authFailed].Add(1)
		}
		if !res.stale && s.authLim.failed(src, time.Now()) {
			s.log.Warnf("%s: %s reached %d failed AUTHs within %v; its AUTHs are refused until then",
				p.addr, src, s.cfg.MaxAuthFailuresPerSource, s.cfg.AuthFailureWindow)
		}
		if !res.stale && p.authFailed() {
			p.challenge(m, realm, false)
			p.close(transport.ReasonPolicy, "too many failed AUTH attempts")
			return
		}
		p.challenge(m, realm, res.stale)
		return
	}

	expires := s.cfg.Expires
	if secs, ok, err := m.Expires(); err != nil {
		s.stats.auth[authRejected].Add(1)
		p.respond(m, 400, "bad Expires")
		return
	} else if ok {
		expires = time.Duration(secs) * time.Second
		if expires < s.cfg.MinExpires {
			s.stats.auth[authRejected].Add(1)
			p.refuseExpires(m, msrp.HeaderMinExpires, s.cfg.MinExpires)
			return
		}
		if expires > s.cfg.MaxExpires {
			s.stats.auth[authRejected].Add(1)
			p.refuseExpires(m, msrp.HeaderMaxExpires, s.cfg.MaxExpires)
			return
		}
	}
	now := time.Now()
	until := now.Add(expires)

	if sess != nil {
		if sess.owner != p {
			s.stats.auth[authRejected].Add(1)
			p.respond(m, 403, "session belongs to another connection")
			return
		}
		sess.refresh(until)
		sess.active(now)
	} else {
		// Copies, so the session does not pin the whole AUTH request.
		back, _ := msrp.ParsePath(strings.Clone(m.Header(msrp.HeaderFromPath)))
		sess = &session{owner: p, user: strings.Clone(res.user), realm: realm, back: back,
			expires: until.UnixNano(), start: now.UnixNano()}
		sess.uri, sess.id = s.id.sessionURI(useHost, msrp.NewSessionID())
		if !p.addSession(sess) {
			s.stats.auth[authRejected].Add(1)
			p.respond(m, 403, "too many sessions on this connection")
			return
		}
		s.sessions.add(sess)
		s.stats.started.Add(1)
		s.startSessionSweep()
	}
	s.stats.auth[authOK].Add(1)
	p.succeeded()
	s.log.Infof("%s: AUTH ok for user %q in realm %q: %s for %v", p.addr, res.user, realm, sess.uri, expires)
	resp := m.Response(200, "OK")
	resp.Headers = append(resp.Headers,
		msrp.Header{Name: msrp.HeaderUsePath, Value: sess.uri},
		msrp.Header{Name: msrp.HeaderExpires, Value: strconv.Itoa(int(expires / time.Second))},
		msrp.Header{Name: msrp.HeaderAuthenticationInfo, Value: s.auth.authenticationInfo(res)},
	)
	p.countResponse(200)
	if err := p.send(resp); err != nil {
		s.log.Debugf("%s: AUTH response: %v", p.addr, err)
	}
}

// authFailed counts a failed AUTH and reports whether the connection has
// used up its attempts (RFC 4976 section 6.3).
func (p *peer) authFailed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authFailures++
	return p.authFailures >= p.srv.cfg.MaxAuthFailures
}

func (p *peer) challenge(m *msrp.Message, realm string, stale bool) {
	resp := m.Response(401, "Unauthorized")
	resp.Headers = append(resp.Headers, msrp.Header{Name: msrp.HeaderWWWAuthenticate, Value: p.srv.auth.challengeIn(realm, stale)})
	p.countResponse(401)
	if err := p.send(resp); err != nil {
		p.srv.log.Debugf("%s: 401: %v", p.addr, err)
	}
}

func (p *peer) refuseExpires(m *msrp.Message, header string, bound time.Duration) {
	resp := m.Response(423, "Interval Out-of-Bounds")
	resp.Headers = append(resp.Headers, msrp.Header{Name: header, Value: strconv.Itoa(int(bound / time.Second))})
	p.countResponse(423)
	if err := p.send(resp); err != nil {
		p.srv.log.Debugf("%s: 423: %v", p.addr, err)
	}
}
