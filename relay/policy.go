package relay

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/msrpd/msrpd/srv"
)

// OutboundPolicy says which next hops the relay may dial. A user of the
// relay names the next hop (the To-Path URI after the relay's own), so
// without a policy any user could make the relay connect to any host and
// port: its own loopback services, its private network, the cloud
// metadata address. The zero value is the default: only msrps (TLS) next
// hops, only at public addresses, never one of the relay's own listeners.
//
// The policy is applied after name resolution, to every address tried,
// and the relay dials the address it checked (never the name again), so
// a name that resolves to a refused address is refused too. Reusing a
// connection that already exists (see Server.nextHop) is not dialling and
// the policy does not apply to it.
type OutboundPolicy struct {
	// Allow admits next hops the default classes refuse: CIDR prefixes
	// ("127.0.0.0/8" for a chain of relays on one machine, "10.0.0.0/8"
	// for a farm on a private network), single addresses, or host names
	// (matched exactly, case-insensitively), whose every resolved address
	// is then admitted. The relay's own listeners stay refused.
	Allow []string
	// Deny refuses more next hops, in the same forms as Allow. Deny wins
	// over Allow. A denied name matches only that spelling of the host;
	// deny addresses with prefixes.
	Deny []string
	// Plain admits plain msrp (TCP) next hops. Default: only msrps (TLS),
	// whose certificate is verified against Config.OutboundTLS's roots.
	Plain bool
	// Resolver looks up next-hop host names. One that also looks up SRV
	// records (a srv.Resolver, such as *srv.Client) finds the relays of
	// a next hop without a port through _msrps._tcp / _msrp._tcp records
	// (RFC 4976 section 8); every address of every target is checked by
	// the policy. Default: srv.System(), the system's DNS.
	Resolver Resolver
}

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// policyError is a next hop the outbound policy refuses; rule says which
// rule refused it, for the log.
type policyError struct {
	target string
	rule   string
}

func (e *policyError) Error() string {
	return fmt.Sprintf("next hop %s refused by the outbound policy: %s", e.target, e.rule)
}

var errPolicyEntry = errors.New("relay: bad outbound policy entry")

// dialPolicy is an OutboundPolicy parsed once by New.
type dialPolicy struct {
	allowNets, denyNets   []netip.Prefix
	allowNames, denyNames map[string]bool
	plain                 bool
	resolver              Resolver
}

func newDialPolicy(p OutboundPolicy) (*dialPolicy, error) {
	d := &dialPolicy{plain: p.Plain, resolver: p.Resolver, allowNames: map[string]bool{}, denyNames: map[string]bool{}}
	if d.resolver == nil {
		d.resolver = srv.System()
	}
	var err error
	if d.allowNets, err = parseEntries(p.Allow, d.allowNames); err != nil {
		return nil, fmt.Errorf("%w (allow): %v", errPolicyEntry, err)
	}
	if d.denyNets, err = parseEntries(p.Deny, d.denyNames); err != nil {
		return nil, fmt.Errorf("%w (deny): %v", errPolicyEntry, err)
	}
	return d, nil
}

// parseEntries sorts policy entries into prefixes and names.
func parseEntries(entries []string, names map[string]bool) ([]netip.Prefix, error) {
	var nets []netip.Prefix
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			continue
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", e, err)
			}
			nets = append(nets, p.Masked())
		default:
			if a, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
				nets = append(nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			if !validName(e) {
				return nil, fmt.Errorf("%q is neither a CIDR prefix, an address nor a host name", e)
			}
			names[hostKey(e)] = true
		}
	}
	return nets, nil
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '.' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return strings.Trim(s, ".") != ""
}

// hostKey is a host name as the policy compares it: lower case, without
// a trailing dot (which would otherwise slip past a denied name).
func hostKey(h string) string { return strings.ToLower(strings.TrimSuffix(h, ".")) }

// checkScheme refuses plain msrp unless the policy admits it. It runs
// before any name is looked up.
func (d *dialPolicy) checkScheme(scheme string) string {
	if scheme != "msrps" && !d.plain {
		return "plain " + scheme + " next hop (only msrps is dialled unless plain next hops are allowed)"
	}
	return ""
}

// checkName refuses a denied host name before it is looked up.
func (d *dialPolicy) checkName(host string) string {
	if d.denyNames[hostKey(host)] {
		return "denied host " + hostKey(host)
	}
	return ""
}

// checkAddr says whether the relay may connect to a (resolved from host)
// at port: "" if it may, else the rule that refuses it. own reports the
// relay's own listening addresses.
func (d *dialPolicy) checkAddr(host string, ap netip.AddrPort, own func(netip.AddrPort) bool) string {
	a := ap.Addr().Unmap()
	for _, p := range d.denyNets {
		if p.Contains(a) {
			return "denied prefix " + p.String()
		}
	}
	if own(ap) {
		return "the relay's own listener"
	}
	if d.allowNames[hostKey(host)] {
		return ""
	}
	for _, p := range d.allowNets {
		if p.Contains(a) {
			return ""
		}
	}
	if class := refusedClass(a); class != "" {
		return class
	}
	return ""
}

// Address ranges refused by default besides those netip classifies.
var (
	sharedSpace  = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598, carrier-grade NAT
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")     // RFC 791: "this host on this network"
	reserved4    = netip.MustParsePrefix("240.0.0.0/4")   // RFC 1112, with the broadcast address
	siteLocal    = netip.MustParsePrefix("fec0::/10")     // RFC 3879, deprecated but routed by some
	nat64        = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052: an IPv4 address inside
	nat64LocalV6 = netip.MustParsePrefix("64:ff9b:1::/48")
)

// refusedClass names the default-refused class of address a, or "".
func refusedClass(a netip.Addr) string {
	switch {
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return "unspecified address"
	case a.IsLoopback():
		return "loopback address"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "link-local address"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast address"
	case a.IsPrivate() && a.Is4():
		return "private address (RFC 1918)"
	case a.IsPrivate():
		return "private address (RFC 4193)"
	case sharedSpace.Contains(a):
		return "shared address (100.64.0.0/10)"
	case reserved4.Contains(a):
		return "reserved address (240.0.0.0/4)"
	case siteLocal.Contains(a):
		return "site-local address"
	case nat64LocalV6.Contains(a):
		return "local-use NAT64 address (RFC 8215)"
	case nat64.Contains(a):
		// The NAT64 gateway connects to the embedded IPv4 address.
		b := a.As16()
		if c := refusedClass(netip.AddrFrom4([4]byte(b[12:]))); c != "" {
			return c + " behind NAT64"
		}
	}
	return ""
}
