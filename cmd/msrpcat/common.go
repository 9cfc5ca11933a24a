package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pion/logging"
	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/srv"
)

// commonFlags are the flags of every command that talks through a relay.
func commonFlags() []cli.Flag { return msrpFlags(true) }

// msrpFlags are the MSRP flags: the relay, the session, and (tlsFlags)
// how to trust TLS peers; relayRequired is false for call and answer,
// which work without a relay.
func msrpFlags(relayRequired bool) []cli.Flag {
	relayUsage := "relay `URL`: ws://host:port/path, wss://..., msrp://host:port;tcp or msrps://host:port;tcp; msrps://DOMAIN;tcp without a port finds the domain's relays through DNS SRV records; repeat it (or give a comma list) for relays to fail over to: a lost relay is replaced by the next one, with a new AUTH and path"
	userUsage := "Digest credentials `NAME:PASSWORD`"
	if !relayRequired {
		relayUsage += "; without it the MSRP session goes straight to the peer"
		userUsage = "the relay's Digest credentials `NAME:PASSWORD` (with --relay)"
	}
	return append(cliflag.NameEnv([]cli.Flag{
		&cli.StringSliceFlag{Name: "relay", Required: relayRequired, EnvVars: []string{"MSRPCAT_RELAY"}, Usage: relayUsage, Action: cliflag.Each("relay", checkRelay)},
		&cli.StringFlag{Name: "dns", Usage: "DNS server `ADDR` (host:port) for SRV records and relay names (default: the system's)", Action: cliflag.One("dns", cliflag.HostPort)},
		&cli.StringFlag{Name: "user", Required: relayRequired, EnvVars: []string{"MSRPCAT_USER"}, Usage: userUsage, Action: userAction("user")},
		&cli.StringFlag{Name: "relay-uri", Usage: "`URI` to address the AUTH to (default: msrp://host:port;ws or ;tcp from --relay)", Action: cliflag.One("relay-uri", checkURI)},
		&cli.StringFlag{Name: "digest-method", Value: "AUTH", Usage: "`METHOD` hashed into the Digest response (AUTH per RFC 4976; MSRP for some relays)", Action: cliflag.One("digest-method", checkMethod)},
		&cli.GenericFlag{Name: "expires", Value: &cliflag.Duration{}, Usage: "Use-Path lifetime (`DURATION`) to ask for in AUTH; 0 sends no Expires (Kamailio 5.6 needs that)"},
		&cli.GenericFlag{Name: "ping-interval", Value: &cliflag.Duration{D: 20 * time.Second}, Usage: "probe the relay after `DURATION` without traffic; 0 disables"},
		&cli.GenericFlag{Name: "pong-timeout", Value: &cliflag.Duration{D: 20 * time.Second, NonZero: true}, Usage: "how long (`DURATION`) a probe waits for its answer"},
		&cli.GenericFlag{Name: "keepalive", Value: &cliflag.Choice{V: "frames", Choices: []string{"frames", "send", "off"}}, Usage: "probe `MODE`: frames (WebSocket Ping; bodiless SEND on TCP), send (bodiless SEND, as a browser must) or off"},
		&cli.GenericFlag{Name: "reconnect-attempts", Value: &cliflag.Int{N: 5, MinusOne: "forever"}, Usage: "`N` re-dial attempts after a lost connection (1s backoff doubling to 30s); 0 never, -1 forever"},
		&cli.GenericFlag{Name: "log-level", Value: &cliflag.Choice{V: "warn", Choices: []string{"error", "warn", "info", "debug", "trace"}}, Usage: "`LEVEL`: error, warn, info, debug or trace (logs go to stderr)"},
	}), tlsFlags()...)
}

// loggerFactory builds the stderr logger factory of --log-level.
func loggerFactory(c *cli.Context) (*logging.DefaultLoggerFactory, error) {
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = os.Stderr
	switch strings.ToLower(c.String("log-level")) {
	case "error":
		lf.DefaultLogLevel = logging.LogLevelError
	case "warn", "warning":
		lf.DefaultLogLevel = logging.LogLevelWarn
	case "info":
		lf.DefaultLogLevel = logging.LogLevelInfo
	case "debug":
		lf.DefaultLogLevel = logging.LogLevelDebug
	case "trace":
		lf.DefaultLogLevel = logging.LogLevelTrace
	default:
		return nil, fmt.Errorf("--log-level %q: want error, warn, info, debug or trace", c.String("log-level"))
	}
	return lf, nil
}

// userAction checks the NAME:PASSWORD of flag name (the password may be
// empty) without echoing a password.
func userAction(name string) func(*cli.Context, string) error {
	return func(_ *cli.Context, v string) error { return cliflag.UserPass(name, v, true) }
}

// splitUser splits NAME:PASSWORD.
func splitUser(s, flag string) (string, string, error) {
	if err := cliflag.UserPass(flag, s, true); err != nil {
		return "", "", err
	}
	name, pass, _ := strings.Cut(s, ":")
	return name, pass, nil
}

// checkRelay checks a --relay URL as endpoint.Dial will take it.
func checkRelay(s string) error {
	if endpoint.CheckRelay(s) != nil {
		return errors.New("want ws://HOST:PORT/PATH, wss://HOST:PORT/PATH, msrp://HOST:PORT;tcp or msrps://HOST:PORT;tcp")
	}
	return nil
}

// checkURI checks an MSRP URI.
func checkURI(s string) error {
	if _, err := msrp.ParseURI(s); err != nil {
		return fmt.Errorf("want an MSRP URI such as msrp://HOST:PORT;tcp (%v)", err)
	}
	return nil
}

// checkPath checks an MSRP path: URIs separated by blanks.
func checkPath(s string) error {
	if _, err := msrp.ParsePath(s); err != nil {
		return fmt.Errorf("want an MSRP path such as \"msrp://HOST:PORT/ID;tcp msrp://HOST:PORT/ID;tcp\" (%v)", err)
	}
	return nil
}

// checkMethod checks an MSRP method name (RFC 4975 section 9: capitals).
func checkMethod(s string) error {
	if s == "" || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return errors.New("want a method name in capitals, such as AUTH or MSRP")
	}
	return nil
}

// endpointConfig maps the common flags to an endpoint.Config for the user
// in flag userFlag. Without --relay (call, answer) it leaves Relay and
// the credentials empty; the caller sets Listener.
func endpointConfig(c *cli.Context, userFlag string) (endpoint.Config, error) {
	var name, pass string
	if firstRelay(c) != "" {
		var err error
		if name, pass, err = splitUser(c.String(userFlag), userFlag); err != nil {
			return endpoint.Config{}, err
		}
	}
	tc, err := clientTLS(c)
	if err != nil {
		return endpoint.Config{}, err
	}
	lf, err := loggerFactory(c)
	if err != nil {
		return endpoint.Config{}, err
	}
	mode := keepalive.Mode(strings.ToLower(c.String("keepalive")))
	switch mode {
	case keepalive.ModeFrames, keepalive.ModeSend, keepalive.ModeOff:
	default:
		return endpoint.Config{}, fmt.Errorf("--keepalive %q: want frames, send or off", c.String("keepalive"))
	}
	ka := keepalive.Config{Interval: c.Duration("ping-interval"), Timeout: c.Duration("pong-timeout"), Mode: mode}
	if ka.Interval == 0 {
		ka.Interval = -1
	}
	var res srv.Resolver
	if d := c.String("dns"); d != "" {
		res = srv.New(srv.Config{Server: d})
	}
	var more []string
	if relays := c.StringSlice("relay"); len(relays) > 1 {
		more = relays[1:]
	}
	return endpoint.Config{
		Relay:             firstRelay(c),
		Relays:            more,
		Resolver:          res,
		RelayURI:          c.String("relay-uri"),
		User:              name,
		Password:          pass,
		DigestMethod:      c.String("digest-method"),
		Expires:           c.Duration("expires"),
		Keepalive:         ka,
		ReconnectAttempts: c.Int("reconnect-attempts"),
		TLSConfig:         tc,
		LoggerFactory:     lf,
	}, nil
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// printEvents reports reconnects and new paths on stderr.
func printEvents(ev endpoint.Event) {
	switch ev.Kind {
	case endpoint.EventDisconnected:
		fmt.Fprintf(os.Stderr, "msrpcat: connection lost: %v\n", ev.Err)
	case endpoint.EventReconnected:
		fmt.Fprintf(os.Stderr, "msrpcat: reconnected; new path: %s\n", ev.Path)
	case endpoint.EventRefreshed:
		if ev.Changed {
			fmt.Fprintf(os.Stderr, "msrpcat: AUTH refreshed with a new Use-Path; new path: %s\n", ev.Path)
		}
	case endpoint.EventGaveUp:
		fmt.Fprintf(os.Stderr, "msrpcat: giving up reconnecting: %v\n", ev.Err)
	}
}

// isText tells whether a body of this type prints as text.
func isText(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "message/cpim")
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// firstRelay is the first --relay, "" without one (call and answer
// work without a relay).
func firstRelay(c *cli.Context) string {
	if rs := c.StringSlice("relay"); len(rs) > 0 {
		return rs[0]
	}
	return ""
}
