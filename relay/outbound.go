package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/srv"
	"github.com/msrpd/msrpd/transport"
)

// nextHop returns the connection over which a request from sess's client
// goes on to u. A URI without a port names a domain: its relays are
// found through DNS SRV records (RFC 4976 section 8, package srv) and
// tried in their order until one can be reached. Each is then a next hop
// of its own (nextHopAt).
func (s *Server) nextHop(u msrp.URI, sess *session) (*peer, error) {
	if u.Port != 0 {
		return s.nextHopAt(u, u.Port, sess)
	}
	if u.Transport != "tcp" {
		return nil, fmt.Errorf("%s: %w", u, errNotDialable)
	}
	if rule := s.policy.checkScheme(u.Scheme); rule != "" {
		return nil, &policyError{target: u.String(), rule: rule}
	}
	if rule := s.policy.checkName(u.Host); rule != "" {
		return nil, &policyError{target: u.String(), rule: rule}
	}
	targets, err := s.targets(u)
	if err != nil {
		return nil, err
	}
	// Failover: the first target that can be reached. A refusal by the
	// policy is the answer only when no target could even be tried.
	var refused *policyError
	var lastErr error
	for _, t := range targets {
		v := u
		v.Host, v.Port = t.Host, t.Port
		p, err := s.nextHopAt(v, t.Port, sess)
		if err == nil {
			return p, nil
		}
		var pe *policyError
		if errors.As(err, &pe) {
			if refused == nil {
				refused = pe
			}
			continue
		}
		if errors.Is(err, ErrServerClosed) {
			return nil, err
		}
		s.log.Infof("next hop %s: SRV target %s failed, trying the next: %v", u, t, err)
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, refused
}

// targets looks up the relays of a port-less URI's domain: SRV records
// when the resolver can look them up, else the host on port 2855.
func (s *Server) targets(u msrp.URI) ([]srv.Target, error) {
	r, ok := s.policy.resolver.(srv.Resolver)
	if !ok {
		return []srv.Target{{Host: u.Host, Port: defaultPort}}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DialTimeout)
	defer cancel()
	ts, err := srv.Lookup(ctx, r, u.Scheme, u.Host)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, &policyError{target: u.String(), rule: "no SRV target"}
	}
	return ts, nil
}

// nextHopAt returns the connection to u at port. A connection that exists
// is reused (see reuse.go); only when none matches does the relay dial,
// under its outbound policy, and keep the new connection for later
// requests (RFC 4976 section 6.4.2). msrp URIs are reached over TCP,
// msrps URIs over TLS.
func (s *Server) nextHopAt(u msrp.URI, port int, sess *session) (*peer, error) {
	key := u.Scheme + "://" + net.JoinHostPort(normHost(u.Host), strconv.Itoa(port))
	s.mu.Lock()
	p := s.outbound[key]
	if p == nil {
		p = s.aliases[key]
	}
	s.mu.Unlock()
	if p != nil {
		return p, nil
	}
	if p := s.reuse(u, port, key, sess); p != nil {
		return p, nil
	}

	s.mu.Lock()
	if p := s.outbound[key]; p != nil {
		s.mu.Unlock()
		return p, nil
	}
	call := s.dialing[key]
	if call == nil {
		call = &dialCall{done: make(chan struct{})}
		s.dialing[key] = call
		s.mu.Unlock()
		call.p, call.err = s.dial(key, u, port)
		s.mu.Lock()
		delete(s.dialing, key)
		if call.err == nil {
			s.outbound[key] = call.p
		}
		close(call.done)
		s.mu.Unlock()
	} else {
		s.mu.Unlock()
		<-call.done
	}
	return call.p, call.err
}

// dialCall lets concurrent requests for one next hop share a single dial.
type dialCall struct {
	done chan struct{}
	p    *peer
	err  error
}

// errNotDialable is a next hop whose transport cannot be dialled (a
// WebSocket client's URI).
var errNotDialable = errors.New("relay: only transport tcp can be dialled")

// dial connects to the next hop u at port: it checks the scheme and name
// against the policy, resolves the name, and tries each address the
// policy admits, in order, until one connects. A refused next hop gets a
// *policyError and never a socket.
func (s *Server) dial(key string, u msrp.URI, port int) (*peer, error) {
	if s.shutting.Load() {
		return nil, ErrServerClosed
	}
	if u.Transport != "tcp" {
		return nil, fmt.Errorf("%s: %w", key, errNotDialable)
	}
	if rule := s.policy.checkScheme(u.Scheme); rule != "" {
		return nil, &policyError{target: key, rule: rule}
	}
	if rule := s.policy.checkName(u.Host); rule != "" {
		return nil, &policyError{target: key, rule: rule}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DialTimeout)
	defer cancel()
	addrs, err := s.resolve(ctx, u.Host)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			// Answered like a refused address, so that users cannot
			// tell which internal names exist.
			return nil, &policyError{target: key, rule: "no address (" + err.Error() + ")"}
		}
		return nil, fmt.Errorf("resolve %s: %w", u.Host, err)
	}

	target := transport.Target{Kind: transport.KindTCP}
	var opts transport.DialOptions
	if u.Scheme == "msrps" {
		target.Kind = transport.KindTLS
		target.ServerName = u.Host // we dial an address: verify the name
		opts.TLSConfig = s.cfg.OutboundTLS
	}
	var refused *policyError
	var c *transport.Conn
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.Unmap(), uint16(port))
		if rule := s.policy.checkAddr(u.Host, ap, s.id.ownAddr); rule != "" {
			if refused == nil {
				refused = &policyError{target: key, rule: rule + " (" + ap.String() + ")"}
			}
			continue
		}
		target.Addr = ap.String()
		if c, err = s.host.Dial(ctx, target, opts); err == nil {
			break
		}
		err = fmt.Errorf("dial %s (%s): %w", key, ap, err)
	}
	switch {
	case c != nil:
		s.stats.dials.Add(1)
	case err != nil:
		s.stats.dialErr.Add(1)
		return nil, err
	case refused != nil:
		return nil, refused
	default:
		return nil, fmt.Errorf("resolve %s: no addresses", u.Host)
	}

	p := newPeer(s, c, true)
	if !s.track(p) {
		c.Close(transport.ReasonShutdown, "relay shutting down")
		return nil, ErrServerClosed
	}
	s.stats.outOpen.Add(1)
	s.log.Infof("%s: outbound connection to next hop %s", p.addr, key)
	go func() {
		defer s.wg.Done()
		p.serve()
		s.mu.Lock()
		if s.outbound[key] == p {
			delete(s.outbound, key)
		}
		s.mu.Unlock()
	}()
	return p, nil
}

// resolve returns the addresses of host: itself when it is an address.
func (s *Server) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	return s.policy.resolver.LookupNetIP(ctx, "ip", host)
}
