package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// DefaultPort is the MSRP port used when an msrp: or msrps: target has
// none (RFC 4976 section 8).
const DefaultPort = 2855

// Target is where Dial connects: a parsed target URL (ParseTarget), or
// one a caller builds, as a relay does for a next hop whose address it
// resolved itself.
type Target struct {
	Kind Kind
	// Addr is host:port for TCP and TLS.
	Addr string
	// URL is the ws:// or wss:// URL for WebSocket.
	URL string
	// ServerName is the name a TLS or wss server's certificate must
	// carry, also sent for SNI (RFC 4976 section 9.2 requires it). ""
	// means the host of Addr or URL. A ServerName set in
	// DialOptions.TLSConfig takes precedence.
	ServerName string
}

// String returns the target as a URL, for logs and errors.
func (t Target) String() string {
	if t.Kind.IsWebSocket() {
		return t.URL
	}
	return t.Kind.String() + "://" + t.Addr
}

// ParseTarget accepts ws://host:port/path, wss://..., tcp://host:port,
// tls://host:port, msrp://host[:port][/session];tcp (TCP) and
// msrps://host[:port][/session];tcp (TLS). Errors wrap ErrBadTarget.
func ParseTarget(s string) (Target, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return Target{}, fmt.Errorf("%w: %q has no scheme", ErrBadTarget, s)
	}
	switch strings.ToLower(scheme) {
	case "ws", "wss":
		kind := KindWS
		if strings.EqualFold(scheme, "wss") {
			kind = KindWSS
		}
		host, _, _ := strings.Cut(rest, "/")
		if host == "" {
			return Target{}, fmt.Errorf("%w: %q has no host", ErrBadTarget, s)
		}
		return Target{Kind: kind, URL: s}, nil
	case "tcp", "tls":
		kind := KindTCP
		if strings.EqualFold(scheme, "tls") {
			kind = KindTLS
		}
		addr := strings.TrimSuffix(rest, "/")
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return Target{}, fmt.Errorf("%w: %q: want %s://host:port", ErrBadTarget, s, scheme)
		}
		return Target{Kind: kind, Addr: addr}, nil
	case "msrp", "msrps":
		u, err := msrp.ParseURI(s)
		if err != nil {
			return Target{}, fmt.Errorf("%w: %v", ErrBadTarget, err)
		}
		if u.Transport != "tcp" {
			return Target{}, fmt.Errorf("%w: %q: can only dial transport tcp (use a ws:// URL for WebSocket)", ErrBadTarget, s)
		}
		port := u.Port
		if port == 0 {
			port = DefaultPort
		}
		kind := KindTCP
		if u.Scheme == "msrps" {
			kind = KindTLS
		}
		return Target{Kind: kind, Addr: net.JoinHostPort(u.Host, strconv.Itoa(port))}, nil
	}
	return Target{}, fmt.Errorf("%w: unknown scheme in %q", ErrBadTarget, s)
}

// DialOptions are the settings of one Dial, beside the Host's.
type DialOptions struct {
	// TLSConfig configures tls and wss targets: roots, a client
	// certificate for mutual TLS. nil means the system roots. It is
	// cloned, and its ServerName set from the target when empty.
	TLSConfig *tls.Config
}

// Dial connects to target and returns a client Conn that runs the same
// keepalive as server ones. The caller runs its read loop. ctx bounds the
// connection and handshakes only, and so does HandshakeTimeout.
func (h *Host) Dial(ctx context.Context, target Target, opts DialOptions) (*Conn, error) {
	if h.isClosed() {
		return nil, ErrHostClosed
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.HandshakeTimeout)
	defer cancel()
	switch target.Kind {
	case KindWS, KindWSS:
		tlsConfig := opts.TLSConfig
		if target.ServerName != "" {
			tlsConfig = clientTLS(tlsConfig, target.ServerName)
		}
		nc, rest, err := ws.Dial(ctx, target.URL, tlsConfig, Subprotocol)
		if errors.Is(err, ws.ErrBadURL) {
			err = fmt.Errorf("%w: %w", ErrBadTarget, err)
		}
		if err != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", target, err)
		}
		conn, err := h.newConn(target.Kind, nc, true) // a client masks what it sends (RFC 6455 section 5.3)
		if err != nil {
			return nil, err
		}
		conn.wsr.Preload(rest) // before the caller's reader starts
		return conn, nil
	case KindTLS:
		name := target.ServerName
		if name == "" {
			name, _, _ = net.SplitHostPort(target.Addr)
		}
		nc, err := h.dialTCP(ctx, target.Addr)
		if err != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", target, err)
		}
		tc := tls.Client(nc, clientTLS(opts.TLSConfig, name))
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("transport: dial %s: %w", target, err)
		}
		return h.newConn(KindTLS, tc, true)
	case KindTCP:
		nc, err := h.dialTCP(ctx, target.Addr)
		if err != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", target, err)
		}
		return h.newConn(KindTCP, nc, true)
	}
	return nil, fmt.Errorf("%w: kind %v", ErrBadTarget, target.Kind)
}

// dialTCP opens a TCP connection with Config.DialContext or a net.Dialer.
func (h *Host) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if h.cfg.DialContext != nil {
		return h.cfg.DialContext(ctx, "tcp", addr)
	}
	return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
}

// clientTLS is cfg (or a default) with ServerName set for SNI and
// certificate verification, for dialing host.
func clientTLS(cfg *tls.Config, host string) *tls.Config {
	c := &tls.Config{}
	if cfg != nil {
		c = cfg.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	return c
}
