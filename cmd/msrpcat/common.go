package main

import (
	"context"
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

// commonFlags are the flags of every command.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "relay", Required: true, EnvVars: []string{"MSRPCAT_RELAY"}, Usage: "relay `URL`: ws://host:port/path, wss://..., msrp://host:port;tcp or msrps://host:port;tcp; msrps://DOMAIN;tcp without a port finds the domain's relays through DNS SRV records; repeat it (or give a comma list) for relays to fail over to: a lost relay is replaced by the next one, with a new AUTH and path"},
		&cli.StringFlag{Name: "dns", Usage: "DNS server `ADDR` (host:port) for SRV records and relay names (default: the system's)"},
		&cli.StringFlag{Name: "user", Required: true, EnvVars: []string{"MSRPCAT_USER"}, Usage: "Digest credentials `NAME:PASSWORD`"},
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
// in flag userFlag.
func endpointConfig(c *cli.Context, userFlag string) (endpoint.Config, error) {
	name, pass, err := splitUser(c.String(userFlag), userFlag)
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
	relays := c.StringSlice("relay")
	if len(relays) == 0 {
		return endpoint.Config{}, fmt.Errorf("--relay: no relay given")
	}
	return endpoint.Config{
		Relay:             relays[0],
		Relays:            relays[1:],
		Resolver:          res,
		RelayURI:          c.String("relay-uri"),
		User:              name,
		Password:          pass,
		DigestMethod:      c.String("digest-method"),
		Expires:           c.Duration("expires"),
		Keepalive:         ka,
		ReconnectAttempts: c.Int("reconnect-attempts"),
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
