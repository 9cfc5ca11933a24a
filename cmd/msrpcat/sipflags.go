package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/sipua"
)

// Default MIME types we accept (RFC 4975 section 8.6): CPIM first, as
// Blink wants, plain text, is-composing, and anything else (saved).
const defaultAcceptTypes = "message/cpim text/plain application/im-iscomposing+xml *"

// sipFlags are the flags call and answer share.
func sipFlags(listenDefault, listenUsage string) []cli.Flag {
	return append(msrpFlags(false),
		&cli.StringFlag{Name: "sip-listen", Value: listenDefault, Usage: listenUsage},
		&cli.StringFlag{Name: "sip-host", Usage: "`HOST` to put in our SIP Contact and SDP (default: the listening address, or the one that reaches the peer)"},
		&cli.StringFlag{Name: "sip-user", Usage: "our SIP user `NAME[:PASSWORD]`: the user part of From and Contact, and Digest credentials for 401/407 challenges"},
		&cli.StringFlag{Name: "sip-domain", Usage: "`DOMAIN` of our From URI (default: the registrar's or our own host)"},
		&cli.StringFlag{Name: "sip-proxy", Usage: "outbound proxy `URI` (sip:host:port;transport=tcp) for INVITE and REGISTER"},
		&cli.DurationFlag{Name: "sip-timeout", Value: sipua.DefaultTimeout, Usage: "bound on each SIP step: a transaction, the wait for an ACK, a BYE"},
		&cli.StringFlag{Name: "msrp-listen", Usage: "without --relay, listen for the peer's MSRP connection on `ADDR` (default: a free port on our SIP host)"},
		&cli.StringFlag{Name: "msrp-setup", Value: "auto", Usage: "our a=setup preference (RFC 6135): auto, active or passive"},
		&cli.StringFlag{Name: "accept-types", Value: defaultAcceptTypes, Usage: "the a=accept-types we offer or answer, space-separated"},
		&cli.StringFlag{Name: "cpim", Value: "auto", Usage: "wrap what we send in message/cpim: on, off, or auto (when the peer lists message/cpim first)"},
		&cli.StringFlag{Name: "out", Usage: "save received files and non-text bodies in `DIR`"},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "MSRP: per-chunk response timeout, and the bound on connecting the session"},
		&cli.IntFlag{Name: "chunk", Value: endpoint.DefaultChunkSize, Usage: "MSRP chunk `SIZE` in bytes"},
		&cli.BoolFlag{Name: "verbose", Usage: "show is-composing indications and delivery notifications on stderr"},
	)
}

// sipConfig maps the flags to a sipua.Config; contactFor is the peer's
// host:port (for our address when listening on an unspecified one).
func sipConfig(c *cli.Context, contactFor string) (sipua.Config, error) {
	lf, err := loggerFactory(c)
	if err != nil {
		return sipua.Config{}, err
	}
	tc, err := clientTLS(c)
	if err != nil {
		return sipua.Config{}, err
	}
	cfg := sipua.Config{
		Listen:        strings.Fields(strings.ReplaceAll(c.String("sip-listen"), ",", " ")),
		Host:          c.String("sip-host"),
		ContactFor:    contactFor,
		Domain:        c.String("sip-domain"),
		Proxy:         c.String("sip-proxy"),
		Timeout:       c.Duration("sip-timeout"),
		TLSConfig:     tc,
		LoggerFactory: lf,
	}
	if u := c.String("sip-user"); u != "" {
		name, pass, _ := strings.Cut(u, ":")
		if name == "" {
			return cfg, fmt.Errorf("--sip-user %q: want NAME[:PASSWORD]", u)
		}
		cfg.User, cfg.Password = name, pass
	}
	if cfg.ContactFor == "" && cfg.Host == "" {
		cfg.ContactFor = routeProbe
	}
	return cfg, nil
}

// routeProbe is an address (TEST-NET-1, RFC 5737) whose route names the
// machine's outward address; a UDP "connection" to it sends nothing.
const routeProbe = "192.0.2.1:5060"

// routeIP returns our address on the route to hostport (a UDP
// "connection" sends nothing), or 0.0.0.0 when there is none.
func routeIP(hostport string) string {
	c, err := net.Dial("udp", hostport)
	if err != nil {
		return "0.0.0.0"
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

// hostPortOf returns host:port of a SIP URI for the route to it.
func hostPortOf(uri string) string {
	s := uri
	if i := strings.Index(s, ":"); i >= 0 {
		s = s[i+1:] // after sip:
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";?>"); i >= 0 {
		s = s[:i]
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		s = net.JoinHostPort(strings.Trim(s, "[]"), "5060")
	}
	return s
}

// msrpListener opens the Listener of sessions without a relay, on
// --msrp-listen or a free port on host.
func msrpListener(c *cli.Context, host string, cfg endpoint.Config) (*endpoint.Listener, error) {
	addr := c.String("msrp-listen")
	if addr == "" {
		addr = net.JoinHostPort(host, "0")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--msrp-listen %s: %w", addr, err)
	}
	lh := ""
	if ta := l.Addr().(*net.TCPAddr); ta.IP.IsUnspecified() {
		lh = host
	}
	return endpoint.NewListener(l, endpoint.ListenerConfig{Host: lh, Keepalive: cfg.Keepalive, LoggerFactory: cfg.LoggerFactory})
}

// status prints one SIP status line on stderr.
func status(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "msrpcat: "+format+"\n", args...)
}

// withTimeout is context.WithTimeout that treats 0 as no bound.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// untilHangup returns a context that also ends when the call does.
func untilHangup(ctx context.Context, done <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
