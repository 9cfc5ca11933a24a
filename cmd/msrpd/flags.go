package main

import (
	"time"

	"github.com/urfave/cli/v2"
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

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "ws", Category: "Listeners", Usage: "serve MSRP over WebSocket (ws) on `ADDR` (repeatable or comma list)"},
		&cli.StringSliceFlag{Name: "wss", Category: "Listeners", Usage: "serve MSRP over secure WebSocket (wss) on `ADDR`; needs --cert and --key"},
		&cli.StringSliceFlag{Name: "tcp", Category: "Listeners", Usage: "serve MSRP over plain TCP on `ADDR`"},
		&cli.StringSliceFlag{Name: "tls", Category: "Listeners", Usage: "serve MSRP over TLS on `ADDR`; needs --cert and --key"},
		&cli.StringFlag{Name: "cert", Category: "TLS", Usage: "certificate chain `FILE` (PEM) for tls and wss listeners and outbound relay TLS"},
		&cli.StringFlag{Name: "key", Category: "TLS", Usage: "private key `FILE` (PEM) for --cert"},
		&cli.StringFlag{Name: "client-ca", Category: "TLS", Usage: "CA `FILE` (PEM): ask TLS peers for certificates and verify them (mutual TLS between relays); also verifies outbound relays"},
		&cli.StringFlag{Name: "host", Category: "Identity", Usage: "host `NAME` in the relay's URIs (default: the TCP/TLS listen address, else the machine's host name)"},
		&cli.StringSliceFlag{Name: "domain", Category: "Identity", Usage: "serve domain `NAME[=HOST]` too (repeatable): an AUTH to msrps://NAME;tcp (or to HOST) is challenged in realm NAME and its Use-Path names HOST (default: --host); give every relay of a farm the domain, each with its own HOST"},
		&cli.StringFlag{Name: "advertise", Category: "Identity", Usage: "`HOST:PORT` put in Use-Path URIs, when clients reach the relay through NAT or a proxy"},
		&cli.StringSliceFlag{Name: "ws-origin", Category: "Listeners", Usage: "allowed WebSocket Origins (`LIST`, e.g. https://app.example.com; * allows any); same-origin and Origin-less requests are always allowed"},
		&cli.StringSliceFlag{Name: "outbound-allow", Category: "Outbound", Usage: "next hops the relay may dial although the defaults refuse them: `LIST` of CIDRs and host names, e.g. 127.0.0.0/8 for relays on this machine, 10.0.0.0/8 for a farm on a private network (never the relay's own listeners)"},
		&cli.StringSliceFlag{Name: "outbound-deny", Category: "Outbound", Usage: "next hops the relay never dials: `LIST` of CIDRs and host names; wins over --outbound-allow"},
		&cli.StringFlag{Name: "dns", Category: "Outbound", Usage: "DNS server `ADDR` (host:port) for next hops' names and SRV records; default: the system's (SRV records from /etc/resolv.conf's servers)"},
		&cli.BoolFlag{Name: "outbound-plain", Category: "Outbound", Usage: "also dial plain msrp (TCP) next hops; by default only msrps (TLS, certificate verified)"},
		&cli.BoolFlag{Name: "web", Category: "Listeners", Value: true, Usage: "serve the browser chat page on ws and wss listeners (GETs without Upgrade: websocket); --web=false answers them 404"},
		&cli.StringFlag{Name: "realm", Category: "Authentication", Usage: "Digest `REALM` (default: the host name)"},
		&cli.StringSliceFlag{Name: "user", Category: "Authentication", Usage: "a user as `NAME:PASSWORD` (repeatable)"},
		&cli.StringFlag{Name: "users-file", Category: "Authentication", Usage: "htdigest `FILE` (user:realm:HA1 lines), re-read on SIGHUP"},
		&cli.StringFlag{Name: "users-db", Category: "Authentication", Usage: "read users from an SQL database, `DSN` postgres://USER:PASS@HOST[:PORT]/DB[?sslmode=...] or mysql://USER:PASS@HOST[:PORT]/DB (MariaDB too): by default Kamailio's/OpenSIPS's subscriber table (ha1, or password where ha1 is empty, by username and domain = realm)"},
		&cli.StringFlag{Name: "users-db-query", Category: "Authentication", Usage: "`SQL` returning ha1 [, password] for a user name and realm ($1, $2 in PostgreSQL; ?, ? in MySQL), for schemas other than subscriber"},
		&cli.DurationFlag{Name: "users-db-cache", Category: "Authentication", Value: 30 * time.Second, Usage: "how long a user found in --users-db is kept (answers AUTHs during a database outage too); 0 keeps none"},
		&cli.IntFlag{Name: "max-auth-failures-per-ip", Category: "Authentication", Value: 20, Usage: "failed AUTHs one IP address may make per minute, across connections, before its AUTHs are refused until the minute ends; -1 for no limit (each connection is closed after 3 failures regardless)"},
		&cli.DurationFlag{Name: "expires", Category: "Authentication", Value: 30 * time.Minute, Usage: "lifetime of a Use-Path URI when the AUTH asks for none"},
		&cli.DurationFlag{Name: "min-expires", Category: "Authentication", Value: time.Minute, Usage: "shortest Expires an AUTH may ask for (423 below)"},
		&cli.DurationFlag{Name: "max-expires", Category: "Authentication", Value: 2 * time.Hour, Usage: "longest Expires an AUTH may ask for (423 above)"},
		&cli.DurationFlag{Name: "ping-interval", Category: "Keepalive", Value: 20 * time.Second, Usage: "probe a connection after this long without traffic; 0 disables probing"},
		&cli.DurationFlag{Name: "pong-timeout", Category: "Keepalive", Value: 20 * time.Second, Usage: "how long a probe waits for its answer"},
		&cli.IntFlag{Name: "keepalive-misses", Category: "Keepalive", Value: 2, Usage: "unanswered probes in a row that close a connection"},
		&cli.StringFlag{Name: "keepalive", Category: "Keepalive", Value: "auto", Usage: "probe `MODE`: auto (Ping frames, bodiless SEND where frames fail), frames, send (bodiless SEND) or off"},
		&cli.StringFlag{Name: "max-chunk", Category: "Limits", Value: "16MiB", Usage: "largest chunk body accepted (413 beyond); `SIZE` in bytes or with KiB/MiB"},
		&cli.StringFlag{Name: "forward-chunk", Category: "Limits", Value: "64KiB", Usage: "largest chunk forwarded; bigger chunks are re-chunked (`SIZE`)"},
		&cli.IntFlag{Name: "max-connections", Category: "Limits", Value: 10000, Usage: "concurrent connections, counted from accept (handshakes included); -1 for no limit"},
		&cli.DurationFlag{Name: "handshake-timeout", Category: "Limits", Value: 10 * time.Second, Usage: "how long a TLS handshake or a WebSocket upgrade (its HTTP request) may take"},
		&cli.DurationFlag{Name: "header-timeout", Category: "Limits", Value: 30 * time.Second, Usage: "how long a chunk's header block may take from its first byte; 0 for no limit"},
		&cli.DurationFlag{Name: "body-timeout", Category: "Limits", Value: time.Minute, Usage: "how long a chunk's body may stop before the connection is closed; 0 for no limit"},
		&cli.BoolFlag{Name: "block-unknown-methods", Category: "Limits", Usage: "answer methods other than SEND, REPORT and AUTH with 501 instead of forwarding them"},
		&cli.StringFlag{Name: "log-level", Category: "Operation", Value: "info", Usage: "`LEVEL`: error, warn, info, debug or trace (trace logs every chunk's start line and headers)"},
		&cli.StringFlag{Name: "debug-addr", Category: "Operation", Usage: "serve /debug/pprof/ and /debug/vars (relay counters, goroutines) on `ADDR`, e.g. 127.0.0.1:6060; keep it on loopback"},
		&cli.DurationFlag{Name: "shutdown-timeout", Category: "Operation", Value: 10 * time.Second, Usage: "on SIGINT/SIGTERM, how long chunks in flight may finish"},
	}
}

func withEnv(fs []cli.Flag) []cli.Flag {
	for _, f := range fs {
		switch f := f.(type) {
		case *cli.StringSliceFlag:
			f.EnvVars = env(f.Name)
		case *cli.StringFlag:
			f.EnvVars = env(f.Name)
		case *cli.DurationFlag:
			f.EnvVars = env(f.Name)
		case *cli.IntFlag:
			f.EnvVars = env(f.Name)
		case *cli.BoolFlag:
			f.EnvVars = env(f.Name)
		}
	}
	return fs
}
