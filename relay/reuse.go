package relay

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// Connection reuse (RFC 4975 section 6, RFC 6135, RFC 4976 section 6.3).
//
// An endpoint that connects to the relay itself (SDP a=setup:active, no
// AUTH) may not listen at all, or sit behind a NAT, so the URI it puts in
// its From-Path cannot be dialled. Requests for such a URI go over the
// connection the endpoint opened. A next hop u is looked up, in order:
//
//  1. a connection the relay dialled to u's scheme, host and port, or
//     one found by rule 3 for them before (Server.outbound, aliases);
//  2. an inbound TCP or TLS connection whose remote address is u's
//     host (an address) and port. The TCP handshake proves that the
//     peer owns that address and port, so this needs no further trust.
//     msrps URIs only match TLS connections; connections of
//     authenticated clients are left out (they are reached through
//     their Use-Path, which is bound to them);
//  3. for msrps URIs, an inbound connection from a relay whose
//     certificate was verified (mutual TLS) and names u's host: RFC
//     4976 section 6.3 lets a mutually authenticated relay's URIs route
//     over any connection to it (as RFC 5923 does for SIP);
//  4. a connection on which u was the whole From-Path of a request that
//     went to sess's client: an endpoint talking straight to the relay,
//     whatever address its URI names (a NAT). Anyone can write any
//     From-Path, so this binding is kept narrow: it belongs to the one
//     session the request went into (the sender had to know that
//     session's secret URI), only requests from that session's client
//     use it, rule 2 beats it, and the first live connection to claim u
//     keeps it until it closes: a later connection naming the same URI
//     cannot take over its traffic. An msrps URI is only bound to a TLS
//     (or WSS) connection.
//
// Only then does the relay dial, under its outbound policy.

// maxLearnedPeers bounds the rule-4 bindings one session keeps.
const maxLearnedPeers = 16

// reuse returns an existing connection over which a request from sess's
// client may go to u (rules 2 to 4 above), or nil.
func (s *Server) reuse(u msrp.URI, port int, key string, sess *session) *peer {
	if u.Transport == "tcp" {
		if a, err := netip.ParseAddr(u.Host); err == nil {
			if p := s.byRemote(netip.AddrPortFrom(a.Unmap(), uint16(port)), u.Scheme); p != nil {
				return p
			}
		}
		if u.Scheme == "msrps" {
			if p := s.relayNamed(u.Host, key); p != nil {
				return p
			}
		}
	}
	if sess != nil {
		return sess.learned(uriKey(u))
	}
	return nil
}

// byRemote finds the inbound connection from ap (rule 2).
func (s *Server) byRemote(ap netip.AddrPort, scheme string) *peer {
	s.mu.Lock()
	p := s.remotes[ap]
	s.mu.Unlock()
	if p == nil || p.gone() || (scheme == "msrps" && p.conn.Kind() != transport.KindTLS) || p.hasSessions() {
		return nil
	}
	return p
}

// relayNamed finds a mutually authenticated relay whose certificate names
// host (rule 3) and remembers it for key.
func (s *Server) relayNamed(host, key string) *peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.relays {
		if !p.gone() && p.relayCert.VerifyHostname(host) == nil {
			s.aliases[key] = p
			p.aliasKeys = append(p.aliasKeys, key)
			return p
		}
	}
	return nil
}

// index makes an inbound connection findable by rules 2 and 3. s.mu is
// held.
func (s *Server) indexLocked(p *peer) {
	if p.remote.IsValid() && s.remotes[p.remote] == nil {
		s.remotes[p.remote] = p
	}
	if p.relayCert != nil {
		s.relays[p] = struct{}{}
	}
}

// unindexLocked forgets a closed connection. s.mu is held.
func (s *Server) unindexLocked(p *peer) {
	if p.remote.IsValid() && s.remotes[p.remote] == p {
		delete(s.remotes, p.remote)
	}
	delete(s.relays, p)
	for _, k := range p.aliasKeys {
		if s.aliases[k] == p {
			delete(s.aliases, k)
		}
	}
	p.aliasKeys = nil
}

// learn binds the URI from, the whole From-Path of a request p sent
// toward sess's client, to p (rule 4), unless a live connection holds it
// already. It reports whether from is bound to p.
func (sess *session) learn(from msrp.URI, p *peer) bool {
	if from.Scheme == "msrps" && p.conn.Kind() != transport.KindTLS && p.conn.Kind() != transport.KindWSS {
		return false // what is meant for a TLS peer never goes out in clear
	}
	key := uriKey(from)
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if q := sess.peers[key]; q != nil && !q.gone() {
		return q == p
	}
	if sess.peers == nil {
		sess.peers = map[string]*peer{}
	}
	if len(sess.peers) >= maxLearnedPeers {
		for k, q := range sess.peers {
			if q.gone() {
				delete(sess.peers, k)
			}
		}
		if len(sess.peers) >= maxLearnedPeers {
			return false
		}
	}
	sess.peers[key] = p
	return true
}

// learned returns the live connection bound to the URI key in sess.
func (sess *session) learned(key string) *peer {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	p := sess.peers[key]
	if p != nil && p.gone() {
		delete(sess.peers, key)
		return nil
	}
	return p
}

// uriKey is a URI in the form that compares as RFC 4975 section 6.1 says:
// scheme, host and transport case-insensitively, addresses as addresses,
// userinfo and other parameters ignored.
func uriKey(u msrp.URI) string {
	return strings.ToLower(u.Scheme) + "://" + normHost(u.Host) + ":" + strconv.Itoa(u.Port) + "/" + u.SessionID + ";" + strings.ToLower(u.Transport)
}
