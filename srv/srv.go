package srv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// DefaultPort is the port of an MSRP relay reached without SRV records
// (RFC 4976 section 8).
const DefaultPort = 2855

// Resolver looks up SRV records and host addresses. *Client is one; a
// *net.Resolver is not (its LookupSRV has another signature), but
// System wraps one.
type Resolver interface {
	// LookupSRV returns the SRV records of _service._proto.name, or a
	// *net.DNSError with IsNotFound when there are none.
	LookupSRV(ctx context.Context, service, proto, name string) ([]*net.SRV, error)
	// LookupNetIP returns the addresses of host ("ip", "ip4" or "ip6"),
	// or a *net.DNSError with IsNotFound when it has none.
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Target is one relay to try: a host name (or address) and a port.
type Target struct {
	Host string
	Port int
}

// String formats the target as host:port.
func (t Target) String() string { return net.JoinHostPort(t.Host, fmt.Sprint(t.Port)) }

// ErrUnavailable is a domain whose single SRV record has the target "."
// (RFC 2782: the service is decidedly not available there).
var ErrUnavailable = errors.New("srv: service not available at this domain (SRV target \".\")")

// Lookup returns the relays to try, in order, for a URI of scheme (msrp
// or msrps) whose host has no port: the targets of the domain's
// _scheme._tcp SRV records ordered as RFC 2782 says, or, when it has none,
// the host itself on DefaultPort. An address as host is itself. Errors
// other than "no such records" are returned: a DNS server that fails is
// no reason to dial the domain's A record, which may be a web server.
func Lookup(ctx context.Context, r Resolver, scheme, host string) ([]Target, error) {
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []Target{{Host: strings.Trim(host, "[]"), Port: DefaultPort}}, nil
	}
	scheme = strings.ToLower(scheme)
	if scheme != "msrp" && scheme != "msrps" {
		return nil, fmt.Errorf("srv: scheme %q is not msrp or msrps", scheme)
	}
	recs, err := r.LookupSRV(ctx, scheme, "tcp", host)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return []Target{{Host: host, Port: DefaultPort}}, nil
		}
		return nil, fmt.Errorf("srv: _%s._tcp.%s: %w", scheme, host, err)
	}
	if len(recs) == 0 {
		return []Target{{Host: host, Port: DefaultPort}}, nil
	}
	if len(recs) == 1 && (recs[0].Target == "." || recs[0].Target == "") {
		return nil, fmt.Errorf("_%s._tcp.%s: %w", scheme, host, ErrUnavailable)
	}
	var ts []Target
	for _, rec := range Order(recs, rand.IntN) {
		if rec.Target == "." || rec.Target == "" {
			continue
		}
		ts = append(ts, Target{Host: strings.TrimSuffix(rec.Target, "."), Port: int(rec.Port)})
	}
	return ts, nil
}

// Order returns recs in the order RFC 2782 says to try them: lowest
// priority first; within one priority, records drawn one by one with a
// chance proportional to their weight, records of weight 0 having a small
// chance (they are put first before the draw, as the RFC's algorithm
// does). intn(n) returns a random number in [0, n).
func Order(recs []*net.SRV, intn func(int) int) []*net.SRV {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b *net.SRV) int { return int(a.Priority) - int(b.Priority) })
	out := make([]*net.SRV, 0, len(sorted))
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j].Priority == sorted[i].Priority {
			j++
		}
		out = append(out, byWeight(sorted[i:j], intn)...)
		i = j
	}
	return out
}

// byWeight orders records of one priority by RFC 2782's weighted draw.
func byWeight(group []*net.SRV, intn func(int) int) []*net.SRV {
	// Zero weights first, so that they can be drawn at all (RFC 2782).
	left := make([]*net.SRV, 0, len(group))
	for _, r := range group {
		if r.Weight == 0 {
			left = append(left, r)
		}
	}
	for _, r := range group {
		if r.Weight != 0 {
			left = append(left, r)
		}
	}
	out := make([]*net.SRV, 0, len(group))
	for len(left) > 0 {
		sum := 0
		for _, r := range left {
			sum += int(r.Weight)
		}
		pick := 0
		if sum > 0 {
			n := intn(sum + 1) // 0..sum: a record of weight 0 wins on 0
			run := 0
			for i, r := range left {
				run += int(r.Weight)
				if run >= n {
					pick = i
					break
				}
			}
		}
		out = append(out, left[pick])
		left = append(left[:pick], left[pick+1:]...)
	}
	return out
}
