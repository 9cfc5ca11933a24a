package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
	"github.com/msrpd/msrpd/sipua"
)

// Default MIME types we accept (RFC 4975 section 8.6): CPIM first, as
// Blink wants, plain text, is-composing, and anything else (saved).
const defaultAcceptTypes = "message/cpim text/plain application/im-iscomposing+xml *"

// sipFlags are the flags call and answer share.
func sipFlags(listenDefault, listenUsage string) []cli.Flag {
	return append(msrpFlags(false),
		&cli.StringFlag{Name: "sip-listen", Value: listenDefault, Usage: listenUsage, Action: cliflag.One("sip-listen", checkSIPListen)},
		&cli.StringFlag{Name: "sip-host", Usage: "`HOST` to put in our SIP Contact and SDP (default: the listening address, or the one that reaches the peer)", Action: cliflag.One("sip-host", cliflag.HostName)},
		&cli.StringFlag{Name: "sip-user", Usage: "our SIP user `NAME[:PASSWORD]`: the user part of From and Contact, and Digest credentials for 401/407 challenges", Action: cliflag.One("sip-user", checkSIPUser)},
		&cli.StringFlag{Name: "sip-domain", Usage: "`DOMAIN` of our From URI (default: the registrar's or our own host)", Action: cliflag.One("sip-domain", cliflag.HostName)},
		&cli.StringFlag{Name: "sip-proxy", Usage: "outbound proxy `URI` (sip:host:port;transport=tcp) for INVITE and REGISTER", Action: cliflag.One("sip-proxy", checkSIPURI)},
		&cli.GenericFlag{Name: "sip-timeout", Value: &cliflag.Duration{D: sipua.DefaultTimeout, NonZero: true}, Usage: "bound (`DURATION`) on each SIP step: a transaction, the wait for an ACK, a BYE"},
		&cli.StringFlag{Name: "msrp-listen", Usage: "without --relay, listen for the peer's MSRP connection on `ADDR` (default: a free port on our SIP host)", Action: cliflag.One("msrp-listen", cliflag.ListenAddr)},
		&cli.GenericFlag{Name: "msrp-setup", Value: &cliflag.Choice{V: "auto", Choices: []string{"auto", "active", "passive"}}, Usage: "our a=setup preference (RFC 6135): auto, active or passive"},
		&cli.StringFlag{Name: "accept-types", Value: defaultAcceptTypes, Usage: "the a=accept-types we offer or answer, space-separated", Action: cliflag.One("accept-types", checkAcceptTypes)},
		&cli.GenericFlag{Name: "cpim", Value: &cliflag.Choice{V: "auto", Choices: []string{"auto", "on", "off"}}, Usage: "wrap what we send in message/cpim: on, off, or auto (when the peer lists message/cpim first)"},
		&cli.StringFlag{Name: "out", Usage: "save received files and non-text bodies in `DIR`"},
		&cli.GenericFlag{Name: "timeout", Value: &cliflag.Duration{D: 30 * time.Second, NonZero: true}, Usage: "MSRP: per-chunk response timeout, and the bound on connecting the session (`DURATION`)"},
		&cli.GenericFlag{Name: "chunk", Value: &cliflag.Size{N: endpoint.DefaultChunkSize}, Usage: "MSRP chunk `SIZE` in bytes (or with KiB)"},
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
	listen := listenSpecs(c.String("sip-listen"))
	st, err := serverTLS(tc, listen)
	if err != nil {
		return sipua.Config{}, err
	}
	cfg := sipua.Config{
		Listen:        listen,
		Host:          c.String("sip-host"),
		ContactFor:    contactFor,
		Domain:        c.String("sip-domain"),
		Proxy:         c.String("sip-proxy"),
		Timeout:       c.Duration("sip-timeout"),
		TLSConfig:     tc,
		ServerTLS:     st,
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

// serverTLS is the configuration of the tls: SIP listeners among listen:
// our certificate, that of --cert and --key. nil when there are none.
func serverTLS(client *tls.Config, listen []string) (*tls.Config, error) {
	for _, spec := range listen {
		if !strings.HasPrefix(spec, "tls:") {
			continue
		}
		if client == nil || len(client.Certificates) == 0 {
			return nil, fmt.Errorf("--sip-listen %s needs --cert and --key, the certificate to serve", spec)
		}
		return &tls.Config{Certificates: client.Certificates, MinVersion: tls.VersionTLS12}, nil
	}
	return nil, nil
}

// listenSpecs splits --sip-listen, a list separated by commas or blanks.
func listenSpecs(s string) []string {
	return strings.Fields(strings.ReplaceAll(s, ",", " "))
}

// checkSIPListen checks --sip-listen: a comma-separated list of
// [udp:|tcp:|tls:]HOST:PORT.
func checkSIPListen(s string) error {
	for _, spec := range listenSpecs(s) {
		// One transport prefix at most, read as sipua's listen reads it.
		addr := spec
		if network, rest, ok := strings.Cut(spec, ":"); ok && (network == "udp" || network == "tcp" || network == "tls") {
			addr = rest
		}
		if cliflag.ListenAddr(addr) != nil {
			return fmt.Errorf("want [udp:|tcp:|tls:]HOST:PORT such as 127.0.0.1:5060 or tls:127.0.0.1:5061 (in %q)", spec)
		}
	}
	return nil
}

// checkSIPUser checks NAME[:PASSWORD] with a name.
func checkSIPUser(s string) error {
	if name, _, _ := strings.Cut(s, ":"); name == "" {
		return errors.New("want NAME[:PASSWORD]; the name is empty")
	}
	return nil
}

// checkSIPURI checks a sip: URI.
func checkSIPURI(s string) error {
	if sipua.CheckURI(s) != nil {
		return errors.New("want a SIP URI such as sip:proxy.example.com:5060;transport=tcp")
	}
	return nil
}

// checkAcceptTypes checks a=accept-types: MIME types or *, blank-separated.
func checkAcceptTypes(s string) error {
	for _, t := range strings.Fields(s) {
		main, sub, ok := strings.Cut(t, "/")
		if t != "*" && (!ok || main == "" || sub == "" || strings.ContainsAny(t, ",;\"")) {
			return fmt.Errorf("want MIME types such as text/plain or message/cpim, or *, separated by blanks (not %q)", t)
		}
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("want MIME types such as text/plain or message/cpim, or *, separated by blanks")
	}
	return nil
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
