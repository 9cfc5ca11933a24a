package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/srv"
)

// relaySpec is one relay of Config.Relay and Config.Relays: a relay of its
// own, or a domain whose relays its SRV records list.
type relaySpec struct {
	name   string      // as configured, for logs
	fixed  relayTarget // when !srv
	srv    bool
	scheme string // msrp or msrps, for srv
	domain string // for srv
	uri    string // the AUTH's To-Path, for srv
}

// parseRelays parses the configured relays. An msrp or msrps URI without
// a port names a domain (RFC 4976 section 8): its relays are looked up
// at each connection through SRV records, its AUTH goes to the URI as
// given (msrps://example.com;tcp, so the domain is the Digest realm).
func parseRelays(cfg Config) ([]relaySpec, error) {
	var specs []relaySpec
	for _, r := range append([]string{cfg.Relay}, cfg.Relays...) {
		r = strings.TrimSpace(r)
		scheme, _, _ := strings.Cut(r, "://")
		if s := strings.ToLower(scheme); s == "msrp" || s == "msrps" {
			if u, err := msrp.ParseURI(r); err == nil && u.Port == 0 {
				if u.Transport != "tcp" {
					return nil, fmt.Errorf("%w: relay %q: transport must be tcp", ErrBadConfig, r)
				}
				spec := relaySpec{name: r, srv: true, scheme: s, domain: u.Host, uri: r}
				if cfg.RelayURI != "" {
					if _, err := msrp.ParseURI(cfg.RelayURI); err != nil {
						return nil, fmt.Errorf("%w: RelayURI: %v", ErrBadConfig, err)
					}
					spec.uri = cfg.RelayURI
				}
				specs = append(specs, spec)
				continue
			}
		}
		t, err := parseRelay(r, cfg.RelayURI)
		if err != nil {
			return nil, err
		}
		specs = append(specs, relaySpec{name: r, fixed: t})
	}
	return specs, nil
}

// candidates returns the relays to try, in order: every configured relay,
// domains expanded to their SRV targets; with lost set, the one just lost
// goes last, so that a reconnect tries the others first. A domain whose
// lookup fails adds its error and no relay.
func (e *Endpoint) candidates(ctx context.Context, lost string) ([]relayTarget, error) {
	var ts []relayTarget
	var errs []error
	for _, s := range e.specs {
		if !s.srv {
			ts = append(ts, s.fixed)
			continue
		}
		targets, err := srv.Lookup(ctx, e.resolver, s.scheme, s.domain)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, t := range targets {
			ts = append(ts, relayTarget{
				dial:   s.scheme + "://" + net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) + ";tcp",
				secure: s.scheme == "msrps",
				uri:    s.uri,
				name:   s.name + " (" + t.String() + ")",
			})
		}
	}
	if lost != "" {
		for i, t := range ts {
			if t.dial == lost {
				ts = append(append(ts[:i:i], ts[i+1:]...), t)
				break
			}
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("endpoint: no relay to try: %w", errors.Join(errs...))
	}
	return ts, nil
}

// resolvingDialer is the transport's dialler: it looks host names up with
// res (Config.Resolver, so a DNS server of its own answers for SRV
// targets too) and tries each address in turn.
func resolvingDialer(res srv.Resolver) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		addrs, err := res.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		var last error
		for _, a := range addrs {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		if last == nil {
			last = fmt.Errorf("%s: no addresses", host)
		}
		return nil, last
	}
}
