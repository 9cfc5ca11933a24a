package main

import (
	"errors"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/internal/cliflag"
)

// env returns the environment variable for a flag: MSRPD_ and the flag's
// name in upper case with dashes as underscores.
func env(name string) []string {
	b := []byte("MSRPD_" + name)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return []string{string(b)}
}

// Flags whose values need parsing are cliflag values, so a bad value is
// refused with a line that says what a good one looks like; lists and
// plain strings are checked by their Action before run starts.
func flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "ws", Category: "Listeners", Usage: "serve MSRP over WebSocket (ws) on `ADDR` (repeatable or comma list)", Action: cliflag.Each("ws", cliflag.ListenAddr)},
		&cli.StringSliceFlag{Name: "wss", Category: "Listeners", Usage: "serve MSRP over secure WebSocket (wss) on `ADDR`; needs --cert and --key", Action: cliflag.Each("wss", cliflag.ListenAddr)},
		&cli.StringSliceFlag{Name: "tcp", Category: "Listeners", Usage: "serve MSRP over plain TCP on `ADDR`", Action: cliflag.Each("tcp", cliflag.ListenAddr)},
		&cli.StringSliceFlag{Name: "tls", Category: "Listeners", Usage: "serve MSRP over TLS on `ADDR`; needs --cert and --key", Action: cliflag.Each("tls", cliflag.ListenAddr)},
		&cli.StringFlag{Name: "cert", Category: "TLS", Usage: "certificate chain `FILE` (PEM) for tls and wss listeners and outbound relay TLS"},
		&cli.StringFlag{Name: "key", Category: "TLS", Usage: "private key `FILE` (PEM) for --cert"},
		&cli.StringFlag{Name: "client-ca", Category: "TLS", Usage: "CA `FILE` (PEM): ask TLS peers for certificates and verify them (mutual TLS between relays); also verifies outbound relays"},
		&cli.BoolFlag{Name: "require-client-cert", Category: "TLS", Usage: "with --client-ca, refuse tls and wss connections, clients' too, that present no certificate it verifies (by default clients may come without one and authenticate with Digest)"},
		&cli.StringFlag{Name: "host", Category: "Identity", Usage: "host `NAME` in the relay's URIs (default: the TCP/TLS listen address, else the machine's host name)", Action: cliflag.One("host", cliflag.HostName)},
		&cli.StringSliceFlag{Name: "domain", Category: "Identity", Usage: "serve domain `NAME[=HOST]` too (repeatable): an AUTH to msrps://NAME;tcp (or to HOST) is challenged in realm NAME and its Use-Path names HOST (default: --host); give every relay of a farm the domain, each with its own HOST", Action: cliflag.Each("domain", checkDomain)},
		&cli.StringFlag{Name: "advertise", Category: "Identity", Usage: "`HOST:PORT` put in Use-Path URIs, when clients reach the relay through NAT or a proxy", Action: cliflag.One("advertise", cliflag.HostPort)},
		&cli.StringSliceFlag{Name: "ws-origin", Category: "Listeners", Usage: "allowed WebSocket Origins (`LIST`, e.g. https://app.example.com; * allows any); same-origin and Origin-less requests are always allowed", Action: cliflag.Each("ws-origin", cliflag.Origin)},
		&cli.StringSliceFlag{Name: "outbound-allow", Category: "Outbound", Usage: "next hops the relay may dial although the defaults refuse them: `LIST` of CIDRs and host names, e.g. 127.0.0.0/8 for relays on this machine, 10.0.0.0/8 for a farm on a private network (never the relay's own listeners)", Action: cliflag.Each("outbound-allow", cliflag.NetOrName)},
		&cli.StringSliceFlag{Name: "outbound-deny", Category: "Outbound", Usage: "next hops the relay never dials: `LIST` of CIDRs and host names; wins over --outbound-allow", Action: cliflag.Each("outbound-deny", cliflag.NetOrName)},
		&cli.StringFlag{Name: "dns", Category: "Outbound", Usage: "DNS server `ADDR` (host:port) for next hops' names and SRV records; default: the system's (SRV records from /etc/resolv.conf's servers)", Action: cliflag.One("dns", cliflag.HostPort)},
		&cli.BoolFlag{Name: "outbound-plain", Category: "Outbound", Usage: "also dial plain msrp (TCP) next hops; by default only msrps (TLS, certificate verified)"},
		&cli.BoolFlag{Name: "web", Category: "Listeners", Value: true, Usage: "serve the browser chat page on ws and wss listeners (GETs without Upgrade: websocket); --web=false answers them 404"},
		&cli.StringFlag{Name: "realm", Category: "Authentication", Usage: "Digest `REALM` (default: the host name)", Action: cliflag.One("realm", realmCheck)},
		&cli.StringSliceFlag{Name: "user", Category: "Authentication", Usage: "a user as `NAME:PASSWORD` (repeatable)", Action: cliflag.Users("user", false)},
		&cli.StringFlag{Name: "users-file", Category: "Authentication", Usage: "htdigest `FILE` (user:realm:HA1 lines), re-read on SIGHUP"},
		&cli.StringFlag{Name: "users-db", Category: "Authentication", Usage: "read users from an SQL database, `DSN` postgres://USER:PASS@HOST[:PORT]/DB[?sslmode=...] or mysql://USER:PASS@HOST[:PORT]/DB (MariaDB too): by default Kamailio's/OpenSIPS's subscriber table (ha1, or password where ha1 is empty, by username and domain = realm)"},
		&cli.StringFlag{Name: "users-db-query", Category: "Authentication", Usage: "`SQL` returning ha1 [, password] for a user name and realm ($1, $2 in PostgreSQL; ?, ? in MySQL), for schemas other than subscriber"},
		&cli.GenericFlag{Name: "users-db-cache", Category: "Authentication", Value: &cliflag.Duration{D: 30 * time.Second}, Usage: "how long (`DURATION`) a user found in --users-db is kept (answers AUTHs during a database outage too); 0 keeps none"},
		&cli.GenericFlag{Name: "max-auth-failures-per-ip", Category: "Authentication", Value: &cliflag.Int{N: 20, Min: 1, MinusOne: "no limit"}, Usage: "`N` failed AUTHs one IP address may make per minute, across connections, before its AUTHs are refused until the minute ends; -1 for no limit (each connection is closed after 3 failures regardless)"},
		&cli.GenericFlag{Name: "expires", Category: "Authentication", Value: &cliflag.Duration{D: 30 * time.Minute, NonZero: true}, Usage: "lifetime (`DURATION`) of a Use-Path URI when the AUTH asks for none"},
		&cli.GenericFlag{Name: "min-expires", Category: "Authentication", Value: &cliflag.Duration{D: time.Minute, NonZero: true}, Usage: "shortest Expires (`DURATION`) an AUTH may ask for (423 below)"},
		&cli.GenericFlag{Name: "max-expires", Category: "Authentication", Value: &cliflag.Duration{D: 2 * time.Hour, NonZero: true}, Usage: "longest Expires (`DURATION`) an AUTH may ask for (423 above)"},
		&cli.GenericFlag{Name: "ping-interval", Category: "Keepalive", Value: &cliflag.Duration{D: 20 * time.Second}, Usage: "probe a connection after `DURATION` without traffic; 0 disables probing"},
		&cli.GenericFlag{Name: "pong-timeout", Category: "Keepalive", Value: &cliflag.Duration{D: 20 * time.Second, NonZero: true}, Usage: "how long (`DURATION`) a probe waits for its answer"},
		&cli.GenericFlag{Name: "keepalive-misses", Category: "Keepalive", Value: &cliflag.Int{N: 2, Min: 1}, Usage: "`N` unanswered probes in a row close a connection"},
		&cli.GenericFlag{Name: "keepalive", Category: "Keepalive", Value: &cliflag.Choice{V: "auto", Choices: []string{"auto", "frames", "send", "off"}}, Usage: "probe `MODE`: auto (Ping frames, bodiless SEND where frames fail), frames, send (bodiless SEND) or off"},
		&cli.GenericFlag{Name: "max-chunk", Category: "Limits", Value: &cliflag.Size{N: 16 << 20, Min: 2048}, DefaultText: "16MiB", Usage: "largest chunk body accepted (413 beyond); `SIZE` in bytes or with KiB/MiB"},
		&cli.GenericFlag{Name: "forward-chunk", Category: "Limits", Value: &cliflag.Size{N: 64 << 10, Min: 2048}, DefaultText: "64KiB", Usage: "largest chunk forwarded; bigger chunks are re-chunked (`SIZE`, at least 2KiB)"},
		&cli.GenericFlag{Name: "max-connections", Category: "Limits", Value: &cliflag.Int{N: 10000, Min: 1, MinusOne: "no limit"}, Usage: "`N` concurrent connections at most, counted from accept (handshakes included); -1 for no limit"},
		&cli.GenericFlag{Name: "handshake-timeout", Category: "Limits", Value: &cliflag.Duration{D: 10 * time.Second, NonZero: true}, Usage: "how long (`DURATION`) a TLS handshake or a WebSocket upgrade (its HTTP request) may take"},
		&cli.GenericFlag{Name: "header-timeout", Category: "Limits", Value: &cliflag.Duration{D: 30 * time.Second}, Usage: "how long (`DURATION`) a chunk's header block may take from its first byte; 0 for no limit"},
		&cli.GenericFlag{Name: "body-timeout", Category: "Limits", Value: &cliflag.Duration{D: time.Minute}, Usage: "how long (`DURATION`) a chunk's body may stop before the connection is closed; 0 for no limit"},
		&cli.BoolFlag{Name: "block-unknown-methods", Category: "Limits", Usage: "answer methods other than SEND, REPORT and AUTH with 501 instead of forwarding them"},
		&cli.GenericFlag{Name: "log-level", Category: "Operation", Value: &cliflag.Choice{V: "info", Choices: []string{"error", "warn", "info", "debug", "trace"}}, Usage: "`LEVEL`: error, warn, info, debug or trace (trace logs every chunk's start line and headers)"},
		&cli.StringFlag{Name: "metrics-addr", Category: "Operation", Usage: "serve Prometheus metrics on http://`ADDR`/metrics and health checks on /healthz and /readyz (503 while draining), e.g. 127.0.0.1:9855", Action: cliflag.One("metrics-addr", cliflag.ListenAddr)},
		&cli.StringFlag{Name: "admin-addr", Category: "Operation", Usage: "serve the session list on http://`ADDR`/sessions (GET lists, DELETE /sessions/ID closes); unauthenticated: keep it on loopback. May equal --metrics-addr", Action: cliflag.One("admin-addr", cliflag.ListenAddr)},
		&cli.StringFlag{Name: "accounting-log", Category: "Operation", Usage: "append one JSON line per ended session to `FILE` (reopened on SIGHUP); without it each record is logged at info level"},
		&cli.GenericFlag{Name: "drain-delay", Category: "Operation", Value: &cliflag.Duration{}, Usage: "on SIGINT/SIGTERM, answer /readyz 503 for `DURATION` before closing the listeners, so load balancers stop sending new clients first"},
		&cli.StringFlag{Name: "debug-addr", Category: "Operation", Usage: "serve /debug/pprof/ and /debug/vars (relay counters, goroutines) on `ADDR`, e.g. 127.0.0.1:6060; keep it on loopback", Action: cliflag.One("debug-addr", cliflag.ListenAddr)},
		&cli.GenericFlag{Name: "shutdown-timeout", Category: "Operation", Value: &cliflag.Duration{D: 10 * time.Second}, Usage: "on SIGINT/SIGTERM, how long (`DURATION`) chunks in flight may finish"},
	}
}

func withEnv(fs []cli.Flag) []cli.Flag {
	for _, f := range fs {
		switch f := f.(type) {
		case *cli.StringSliceFlag:
			f.EnvVars = env(f.Name)
		case *cli.StringFlag:
			f.EnvVars = env(f.Name)
		case *cli.GenericFlag:
			f.EnvVars = env(f.Name)
		case *cli.BoolFlag:
			f.EnvVars = env(f.Name)
		}
	}
	return cliflag.NameEnv(fs)
}

// checkDomain checks a --domain entry: NAME or NAME=HOST, host names.
func checkDomain(s string) error {
	name, host, hasHost := strings.Cut(s, "=")
	if cliflag.HostName(name) != nil || hasHost && cliflag.HostName(host) != nil {
		return errors.New("want NAME or NAME=HOST (host names), e.g. example.com=relay1.example.com")
	}
	return nil
}
