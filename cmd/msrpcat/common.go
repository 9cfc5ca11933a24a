package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pion/logging"
	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/srv"
)

// commonFlags are the flags of every command that talks through a relay.
func commonFlags() []cli.Flag { return msrpFlags(true) }

// msrpFlags are the MSRP flags; relayRequired is false for call and
// answer, which work without a relay.
func msrpFlags(relayRequired bool) []cli.Flag {
	relayUsage := "relay `URL`: ws://host:port/path, wss://..., msrp://host:port;tcp or msrps://host:port;tcp; msrps://DOMAIN;tcp without a port finds the domain's relays through DNS SRV records; repeat it (or give a comma list) for relays to fail over to: a lost relay is replaced by the next one, with a new AUTH and path"
	userUsage := "Digest credentials `NAME:PASSWORD`"
	if !relayRequired {
		relayUsage += "; without it the MSRP session goes straight to the peer"
		userUsage = "the relay's Digest credentials `NAME:PASSWORD` (with --relay)"
	}
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "relay", Required: relayRequired, EnvVars: []string{"MSRPCAT_RELAY"}, Usage: relayUsage},
		&cli.StringFlag{Name: "dns", Usage: "DNS server `ADDR` (host:port) for SRV records and relay names (default: the system's)"},
		&cli.StringFlag{Name: "user", Required: relayRequired, EnvVars: []string{"MSRPCAT_USER"}, Usage: userUsage},
		&cli.StringFlag{Name: "relay-uri", Usage: "`URI` to address the AUTH to (default: msrp://host:port;ws or ;tcp from --relay)"},
		&cli.StringFlag{Name: "digest-method", Value: "AUTH", Usage: "`METHOD` hashed into the Digest response (AUTH per RFC 4976; MSRP for some relays)"},
		&cli.DurationFlag{Name: "expires", Usage: "Use-Path lifetime to ask for in AUTH; 0 sends no Expires (Kamailio 5.6 needs that)"},
		&cli.DurationFlag{Name: "ping-interval", Value: 20 * time.Second, Usage: "probe the relay after this long without traffic; 0 disables"},
		&cli.DurationFlag{Name: "pong-timeout", Value: 20 * time.Second, Usage: "how long a probe waits for its answer"},
		&cli.StringFlag{Name: "keepalive", Value: "frames", Usage: "probe `MODE`: frames (WebSocket Ping; bodiless SEND on TCP), send (bodiless SEND, as a browser must) or off"},
		&cli.IntFlag{Name: "reconnect-attempts", Value: 5, Usage: "re-dial attempts after a lost connection (1s backoff doubling to 30s); 0 never, -1 forever"},
		&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "`LEVEL`: error, warn, info, debug or trace (logs go to stderr)"},
	}
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

// splitUser splits NAME:PASSWORD.
func splitUser(s, flag string) (string, string, error) {
	name, pass, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return "", "", fmt.Errorf("--%s %q: want NAME:PASSWORD", flag, s)
	}
	return name, pass, nil
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

// clientTLS is the TLS client configuration of every connection msrpcat
// makes, MSRP (wss, msrps and tls relays and peers) and SIP (tls:
// transports) alike: TLS client options belong here and nowhere else.
// nil means Go's defaults (system roots, SNI from the host dialled).
func clientTLS(*cli.Context) (*tls.Config, error) {
	return nil, nil
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
