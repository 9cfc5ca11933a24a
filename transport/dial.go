package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/msrpd/msrpd/msrp"
)

// DefaultPort is the MSRP port used when an msrp: or msrps: target has
// none (RFC 4976 section 8).
const DefaultPort = 2855

// target is a parsed Dial target.
type target struct {
	kind Kind
	addr string // host:port for TCP and TLS
	url  string // the ws:// or wss:// URL
	host string // for TLS server name verification
}

// parseTarget accepts ws://host:port/path, wss://..., tcp://host:port,
// tls://host:port, msrp://host[:port][/session];tcp (TCP) and
// msrps://host[:port][/session];tcp (TLS).
func parseTarget(s string) (target, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return target{}, fmt.Errorf("%w: %q has no scheme", ErrBadTarget, s)
	}
	switch strings.ToLower(scheme) {
	case "ws", "wss":
		kind := KindWS
		if strings.EqualFold(scheme, "wss") {
			kind = KindWSS
		}
		host, _, _ := strings.Cut(rest, "/")
		if host == "" {
			return target{}, fmt.Errorf("%w: %q has no host", ErrBadTarget, s)
		}
		return target{kind: kind, url: s}, nil
	case "tcp", "tls":
		kind := KindTCP
		if strings.EqualFold(scheme, "tls") {
			kind = KindTLS
		}
		addr := strings.TrimSuffix(rest, "/")
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return target{}, fmt.Errorf("%w: %q: want %s://host:port", ErrBadTarget, s, scheme)
		}
		return target{kind: kind, addr: addr, host: host}, nil
	case "msrp", "msrps":
		u, err := msrp.ParseURI(s)
		if err != nil {
			return target{}, fmt.Errorf("%w: %v", ErrBadTarget, err)
		}
		if u.Transport != "tcp" {
			return target{}, fmt.Errorf("%w: %q: can only dial transport tcp (use a ws:// URL for WebSocket)", ErrBadTarget, s)
		}
		port := u.Port
		if port == 0 {
			port = DefaultPort
		}
		kind := KindTCP
		if u.Scheme == "msrps" {
			kind = KindTLS
		}
		return target{kind: kind, addr: net.JoinHostPort(u.Host, strconv.Itoa(port)), host: u.Host}, nil
	}
	return target{}, fmt.Errorf("%w: unknown scheme in %q", ErrBadTarget, s)
}

// Dial connects to target (see parseTarget for the forms: ws, wss, tcp,
// tls, msrp and msrps URLs) and returns a client Conn that runs the same
// keepalive as server ones. The caller runs its read loop. ctx bounds the
// connection and handshakes only.
func Dial(ctx context.Context, targetURL string, cfg Config) (*Conn, error) {
	c, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	t, err := parseTarget(targetURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.HandshakeTimeout)
	defer cancel()
	switch t.kind {
	case KindWS, KindWSS:
		nc, rest, err := dialWebSocket(ctx, t.url, c.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", t.url, err)
		}
		conn, err := newConn(c, t.kind, nc, true) // a client masks what it sends (RFC 6455 section 5.3)
		if err != nil {
			return nil, err
		}
		conn.wsr.preload(rest) // before the caller's reader starts
		return conn, nil
	case KindTLS:
		// ServerName for SNI, which RFC 4976 section 9.2 requires.
		tcfg := clientTLS(c.TLSConfig, t.host)
		nc, err := c.dialTCP(ctx, t.addr)
		if err != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", targetURL, err)
		}
		tc := tls.Client(nc, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("transport: dial %s: %w", targetURL, err)
		}
		return newConn(c, KindTLS, tc, true)
	default:
		nc, err := c.dialTCP(ctx, t.addr)
		if err != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", targetURL, err)
		}
		return newConn(c, KindTCP, nc, true)
	}
}

// dialTCP opens a TCP connection with Config.DialContext or a net.Dialer.
func (c *config) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if c.DialContext != nil {
		return c.DialContext(ctx, "tcp", addr)
	}
	return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
}
