package msrp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// URI is an MSRP URI (RFC 4975 section 6):
//
//	msrp[s]://[userinfo@]host[:port][/session-id];transport[;param...]
type URI struct {
	// Scheme is "msrp" or "msrps", lower case.
	Scheme string
	// User is the optional userinfo; it never takes part in comparisons.
	User string
	// Host is a domain name, an IPv4 address or an IPv6 address without
	// brackets.
	Host string
	// Port is the explicit port, or 0 when the URI has none.
	Port int
	// SessionID is the optional session-id (case-sensitive).
	SessionID string
	// Transport is "tcp", "ws" or another token, lower case.
	Transport string
	// Params holds further URI parameters verbatim ("name" or "name=value").
	Params []string
}

// ParseURI parses an MSRP URI.
func ParseURI(s string) (URI, error) {
	var u URI
	rest, ok := cutPrefixFold(s, "msrps://")
	if ok {
		u.Scheme = "msrps"
	} else if rest, ok = cutPrefixFold(s, "msrp://"); ok {
		u.Scheme = "msrp"
	} else {
		return URI{}, fmt.Errorf("msrp: uri %q: scheme is not msrp or msrps", s)
	}
	end := strings.IndexAny(rest, "/;")
	if end < 0 {
		return URI{}, fmt.Errorf("msrp: uri %q: no transport", s)
	}
	if err := u.parseAuthority(rest[:end]); err != nil {
		return URI{}, fmt.Errorf("msrp: uri %q: %w", s, err)
	}
	rest = rest[end:]
	if rest[0] == '/' {
		semi := strings.IndexByte(rest, ';')
		if semi < 0 {
			return URI{}, fmt.Errorf("msrp: uri %q: no transport", s)
		}
		u.SessionID = rest[1:semi]
		if u.SessionID == "" || !allOf(u.SessionID, isSessionIDChar) {
			return URI{}, fmt.Errorf("msrp: uri %q: bad session-id", s)
		}
		rest = rest[semi:]
	}
	params := strings.Split(rest[1:], ";")
	u.Transport = strings.ToLower(params[0])
	if u.Transport == "" || !allOf(u.Transport, isAlphaNum) {
		return URI{}, fmt.Errorf("msrp: uri %q: bad transport", s)
	}
	for _, p := range params[1:] {
		name, _, _ := strings.Cut(p, "=")
		if name == "" || !allOf(p, isParamChar) {
			return URI{}, fmt.Errorf("msrp: uri %q: bad parameter %q", s, p)
		}
	}
	if len(params) > 1 {
		u.Params = params[1:]
	}
	return u, nil
}

func (u *URI) parseAuthority(a string) error {
	if at := strings.LastIndexByte(a, '@'); at >= 0 {
		u.User = a[:at]
		if !allOf(u.User, isUserChar) {
			return fmt.Errorf("bad userinfo")
		}
		a = a[at+1:]
	}
	hostport := a
	if strings.HasPrefix(a, "[") {
		rb := strings.IndexByte(a, ']')
		if rb < 0 {
			return fmt.Errorf("unclosed IPv6 literal")
		}
		addr, err := netip.ParseAddr(a[1:rb])
		// A zone ("%eth0") means nothing to a peer.
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return fmt.Errorf("bad IPv6 literal")
		}
		u.Host = a[1:rb]
		hostport = a[rb+1:]
		if hostport != "" && hostport[0] != ':' {
			return fmt.Errorf("garbage after IPv6 literal")
		}
	} else {
		host, _, _ := strings.Cut(a, ":")
		if host == "" || !allOf(host, isHostChar) {
			return fmt.Errorf("bad host")
		}
		u.Host = host
		hostport = a[len(host):]
	}
	if hostport != "" {
		ps := hostport[1:]
		port, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || port == 0 || len(ps) > 5 {
			return fmt.Errorf("bad port %q", ps)
		}
		u.Port = int(port)
	}
	return nil
}

// String formats u.
func (u URI) String() string {
	var b strings.Builder
	b.Grow(len(u.Host) + len(u.SessionID) + len(u.User) + 24)
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.User != "" {
		b.WriteString(u.User)
		b.WriteByte('@')
	}
	if strings.IndexByte(u.Host, ':') >= 0 {
		b.WriteByte('[')
		b.WriteString(u.Host)
		b.WriteByte(']')
	} else {
		b.WriteString(u.Host)
	}
	if u.Port != 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	if u.SessionID != "" {
		b.WriteByte('/')
		b.WriteString(u.SessionID)
	}
	b.WriteByte(';')
	b.WriteString(u.Transport)
	for _, p := range u.Params {
		b.WriteByte(';')
		b.WriteString(p)
	}
	return b.String()
}

// Equal compares two URIs by the rules of RFC 4975 section 6.1: schemes,
// hosts and transports case-insensitively, IP addresses as addresses, ports
// exactly (an explicit port never equals an absent one), session-ids
// exactly; userinfo and other parameters are ignored.
func (u URI) Equal(v URI) bool {
	return strings.EqualFold(u.Scheme, v.Scheme) &&
		u.Port == v.Port &&
		u.SessionID == v.SessionID &&
		strings.EqualFold(u.Transport, v.Transport) &&
		sameHost(u.Host, v.Host)
}

func sameHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	return err1 == nil && err2 == nil && x.Unmap() == y.Unmap()
}

// Path is an ordered list of URIs, as in To-Path, From-Path and Use-Path.
type Path []URI

// ParsePath parses a space-separated list of one or more URIs.
func ParsePath(s string) (Path, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("msrp: empty path")
	}
	p := make(Path, len(fields))
	for i, f := range fields {
		u, err := ParseURI(f)
		if err != nil {
			return nil, err
		}
		p[i] = u
	}
	return p, nil
}

// String formats p as a header value.
func (p Path) String() string {
	parts := make([]string, len(p))
	for i, u := range p {
		parts[i] = u.String()
	}
	return strings.Join(parts, " ")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func isUnreserved(c byte) bool {
	return isAlphaNum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool { return strings.IndexByte("!$&'()*+,;=", c) >= 0 }

func isSessionIDChar(c byte) bool { return isUnreserved(c) || c == '+' || c == '=' || c == '/' }

func isHostChar(c byte) bool { return isUnreserved(c) || c == '%' || (isSubDelim(c) && c != ';') }

func isUserChar(c byte) bool { return isUnreserved(c) || c == '%' || c == ':' || isSubDelim(c) }

func isParamChar(c byte) bool {
	return isUnreserved(c) || c == '%' || c == '=' || c == '[' || c == ']' || c == ':' || c == '&' || c == '+' || c == '$' || c == '/'
}
