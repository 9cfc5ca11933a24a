package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/msrpd/msrpd/accounting"
	"github.com/msrpd/msrpd/internal/cliflag"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/metrics"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/srv"
	"github.com/msrpd/msrpd/transport"
	"github.com/msrpd/msrpd/userdb"
	"github.com/msrpd/msrpd/web"
	"github.com/pion/logging"
	"github.com/urfave/cli/v2"
)

// listener is one address to serve and how.
type listener struct {
	kind string // ws, wss, tcp, tls
	addr string
	l    net.Listener
}

func run(c *cli.Context) error {
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = os.Stderr
	level, err := parseLevel(c.String("log-level"))
	if err != nil {
		return err
	}
	lf.DefaultLogLevel = level
	log := lf.NewLogger("msrpd")

	ls, err := openListeners(c)
	if err != nil {
		return err
	}
	closeAll := func() {
		for _, l := range ls {
			l.l.Close()
		}
	}

	cfg, demoPass, users, certs, err := buildConfig(c, ls, lf)
	if err != nil {
		closeAll()
		return err
	}
	acct, err := accounting.Open(c.String("accounting-log"), lf.NewLogger("accounting"))
	if err != nil {
		closeAll()
		return fmt.Errorf("--accounting-log: %w", err)
	}
	defer acct.Close()
	cfg.Events.OnSessionEnd = acct.SessionEnded
	if users.db != nil {
		defer users.db.Close()
		go func() { // the relay starts either way: AUTHs get 500 until it answers
			if err := users.db.Ping(context.Background()); err != nil {
				log.Errorf("--users-db: %v (AUTHs of its users are answered 500 until it answers)", err)
			} else {
				log.Infof("--users-db: %s answers", users.db.Name())
			}
		}()
	}
	srv, err := relay.New(cfg)
	if err != nil {
		closeAll()
		return err
	}

	if a := c.String("debug-addr"); a != "" {
		dl, err := serveDebug(a, srv, log)
		if err != nil {
			closeAll()
			return fmt.Errorf("--debug-addr: %w", err)
		}
		defer dl.Close()
	}
	health := new(metrics.Health)
	ops, err := startOps(c.String("metrics-addr"), c.String("admin-addr"), srv, health, log)
	if err != nil {
		closeAll()
		return err
	}
	// Closed last: /readyz says "draining" until the relay has stopped.
	defer ops.close()

	// Signals are ours before the first "listening" line: a SIGHUP sent
	// as soon as msrpd says it listens must reload, not kill it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	errc := make(chan error, len(ls))
	for _, l := range ls {
		l := l
		go func() {
			var err error
			switch l.kind {
			case "tcp":
				err = srv.ServeTCP(l.l)
			case "tls":
				err = srv.ServeTLS(l.l)
			case "ws":
				err = srv.ServeWebSocket(l.l, false)
			case "wss":
				err = srv.ServeWebSocket(l.l, true)
			}
			if !errors.Is(err, relay.ErrServerClosed) {
				errc <- fmt.Errorf("%s %s: %w", l.kind, l.addr, err)
			}
		}()
		announce(log, l, cfg)
	}
	announcePolicy(log, cfg.Outbound)
	for _, d := range cfg.Domains {
		host := d.Host
		if host == "" {
			host = cfg.Host
		}
		log.Infof("domain %s: AUTHs to msrps://%s;tcp in realm %q, Use-Path host %s", d.Name, d.Name, d.Name, host)
	}
	if demoPass != "" {
		fmt.Printf("msrpd: no users given; created user %q with password %q (realm %q)\n", "demo", demoPass, cfg.Realm)
	}
	health.SetReady()

	for {
		select {
		case err := <-errc:
			srv.Close()
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(log, users, acct, certs)
				continue
			}
			health.SetDraining()
			if d := c.Duration("drain-delay"); d > 0 {
				log.Infof("%v: draining: /readyz answers 503; closing the listeners in %v", sig, d)
				select {
				case <-time.After(d):
				case sig = <-sigs: // a second signal: go on now
				}
			}
			log.Infof("%v: shutting down (up to %v)", sig, c.Duration("shutdown-timeout"))
			ctx, cancel := context.WithTimeout(context.Background(), c.Duration("shutdown-timeout"))
			err := srv.Shutdown(ctx)
			cancel()
			if err != nil {
				log.Warnf("shutdown: %v; remaining connections closed", err)
			}
			log.Info("stopped")
			return nil
		}
	}
}

// reload re-reads what SIGHUP re-reads: the users file, the accounting
// log (reopened for rotation) and the certificate. Each says in the log
// what it did; a failure keeps the previous state.
func reload(log logging.LeveledLogger, users *userStore, acct *accounting.Log, certs *certStore) {
	if users.path == "" {
		log.Info("SIGHUP: no --users-file to reload")
	} else if err := users.reload(); err != nil {
		log.Errorf("SIGHUP: --users-file: %v (keeping the previous users)", err)
	} else {
		log.Infof("SIGHUP: reloaded %s", users.path)
	}
	if acct.Path() != "" {
		if err := acct.Reopen(); err != nil {
			log.Errorf("SIGHUP: --accounting-log: %v (writing to the file open before)", err)
		} else {
			log.Infof("SIGHUP: reopened accounting log %s", acct.Path())
		}
	}
	if certs != nil {
		if desc, err := certs.reload(); err != nil {
			log.Errorf("SIGHUP: --cert %s --key %s: %v (new TLS handshakes keep the previous certificate)", certs.certFile, certs.keyFile, err)
		} else {
			log.Infof("SIGHUP: reloaded certificate %s (%s) for new TLS handshakes", certs.certFile, desc)
		}
	}
}

func openListeners(c *cli.Context) ([]listener, error) {
	var ls []listener
	for _, kind := range []string{"tls", "tcp", "wss", "ws"} {
		for _, a := range c.StringSlice(kind) {
			ls = append(ls, listener{kind: kind, addr: strings.TrimSpace(a)})
		}
	}
	if len(ls) == 0 {
		ls = []listener{{kind: "tcp", addr: "127.0.0.1:2855"}, {kind: "ws", addr: "127.0.0.1:8855"}}
	}
	for i := range ls {
		l, err := net.Listen("tcp", ls[i].addr)
		if err != nil {
			for _, o := range ls[:i] {
				o.l.Close()
			}
			return nil, fmt.Errorf("listen %s %s: %w", ls[i].kind, ls[i].addr, err)
		}
		ls[i].l = l
	}
	return ls, nil
}

func buildConfig(c *cli.Context, ls []listener, lf logging.LoggerFactory) (cfg relay.Config, demoPass string, users *userStore, certs *certStore, err error) {
	mode, err := keepalive.ParseMode(c.String("keepalive"))
	if err != nil {
		return cfg, "", nil, nil, err
	}
	interval := c.Duration("ping-interval")
	if interval == 0 {
		interval = -1 // the flag's 0 means off; keepalive's 0 means default
	}
	if err := checkLimits(c); err != nil {
		return cfg, "", nil, nil, err
	}
	tlsCfg, outTLS, certs, err := tlsConfigs(c, ls)
	if err != nil {
		return cfg, "", nil, nil, err
	}
	handshake := c.Duration("handshake-timeout")
	if handshake <= 0 {
		return cfg, "", nil, nil, fmt.Errorf("--handshake-timeout must be positive, not %v", handshake)
	}

	cfg = relay.Config{
		Expires:                  c.Duration("expires"),
		MinExpires:               c.Duration("min-expires"),
		MaxExpires:               c.Duration("max-expires"),
		MaxChunk:                 c.Int("max-chunk"),
		ForwardChunk:             c.Int("forward-chunk"),
		MaxConnections:           c.Int("max-connections"),
		MaxAuthFailuresPerSource: c.Int("max-auth-failures-per-ip"),
		BlockUnknownMethods:      c.Bool("block-unknown-methods"),
		OutboundTLS:              outTLS,
		Outbound: relay.OutboundPolicy{
			Allow: c.StringSlice("outbound-allow"),
			Deny:  c.StringSlice("outbound-deny"),
			Plain: c.Bool("outbound-plain"),
			// Next hops' names and SRV records (RFC 4976 section 8).
			Resolver: srv.New(srv.Config{Server: c.String("dns")}),
		},
		LoggerFactory: lf,
		Transport: transport.Config{
			Keepalive: keepalive.Config{
				Interval: interval,
				Timeout:  c.Duration("pong-timeout"),
				Misses:   c.Int("keepalive-misses"),
				Mode:     mode,
			},
			HandshakeTimeout: handshake,
			HeaderTimeout:    offIfZero(c.Duration("header-timeout")),
			BodyTimeout:      offIfZero(c.Duration("body-timeout")),
			TLSConfig:        tlsCfg,
			AllowedOrigins:   c.StringSlice("ws-origin"),
			LoggerFactory:    lf,
		},
	}
	if c.Bool("web") {
		cfg.Web = web.Handler()
	}
	cfg.Host, cfg.Port, cfg.Secure = identity(c, ls)
	for _, l := range ls {
		cfg.Aliases = append(cfg.Aliases, l.l.Addr().String())
	}
	cfg.Realm = c.String("realm")
	if cfg.Realm == "" {
		cfg.Realm = cfg.Host
	}
	realms := []string{cfg.Realm}
	for _, d := range c.StringSlice("domain") {
		name, host, _ := strings.Cut(strings.TrimSpace(d), "=")
		if name == "" {
			return cfg, "", nil, nil, fmt.Errorf("--domain %q: want NAME or NAME=HOST", d)
		}
		cfg.Domains = append(cfg.Domains, relay.Domain{Name: name, Host: host})
		realms = append(realms, name)
	}
	names := c.StringSlice("user")
	if len(names) == 0 && c.String("users-file") == "" && c.String("users-db") == "" {
		demoPass = randomPassword()
		names = []string{"demo:" + demoPass}
	}
	users, err = newUserStore(names, realms, c.String("users-file"))
	if err != nil {
		return cfg, "", nil, nil, err
	}
	if dsn := c.String("users-db"); dsn != "" {
		cacheTTL := c.Duration("users-db-cache")
		if cacheTTL <= 0 {
			cacheTTL = -1
		}
		users.db, err = userdb.Open(userdb.Config{DSN: dsn, Query: c.String("users-db-query"), CacheTTL: cacheTTL, LoggerFactory: lf})
		if err != nil {
			return cfg, "", nil, nil, fmt.Errorf("--users-db: %w", err)
		}
	} else if c.String("users-db-query") != "" {
		return cfg, "", nil, nil, errors.New("--users-db-query needs --users-db")
	}
	cfg.Credentials = users
	return cfg, demoPass, users, certs, nil
}

// identity picks the host and port of the relay's URIs: --advertise, else
// the first TLS or TCP listener, with --host or the machine's name for a
// wildcard address.
func identity(c *cli.Context, ls []listener) (host string, port int, secure bool) {
	port = 2855
	for _, l := range ls {
		if l.kind == "tls" || l.kind == "tcp" {
			ta := l.l.Addr().(*net.TCPAddr)
			port, secure = ta.Port, l.kind == "tls"
			if !ta.IP.IsUnspecified() {
				host = ta.IP.String()
			}
			break
		}
	}
	if a := c.String("advertise"); a != "" {
		h, p, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(p); err == nil && perr == nil {
			host, port = h, n
		}
	}
	if c.String("host") != "" {
		host = c.String("host")
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	return host, port, secure
}

// tlsConfigs builds the listeners' TLS configuration and the one for
// dialling next hops from --cert, --key, --client-ca and
// --require-client-cert.
func tlsConfigs(c *cli.Context, ls []listener) (server, outbound *tls.Config, certs *certStore, err error) {
	needTLS := false
	for _, l := range ls {
		needTLS = needTLS || l.kind == "tls" || l.kind == "wss"
	}
	var pool *x509.CertPool
	if ca := c.String("client-ca"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--client-ca: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, nil, fmt.Errorf("--client-ca %s: no PEM certificates in it (want -----BEGIN CERTIFICATE----- blocks)", ca)
		}
	}
	require := c.Bool("require-client-cert")
	if require && pool == nil {
		return nil, nil, nil, errors.New("--require-client-cert needs --client-ca, the CA the certificates must chain to")
	}
	// Next hops' certificates are verified against --client-ca, else the
	// system roots.
	outbound = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	certFile, keyFile := c.String("cert"), c.String("key")
	switch {
	case certFile != "" && keyFile == "":
		return nil, nil, nil, errors.New("--cert needs --key, the certificate's private key")
	case certFile == "" && keyFile != "":
		return nil, nil, nil, errors.New("--key needs --cert, the certificate it belongs to")
	case certFile == "" && needTLS:
		return nil, nil, nil, errors.New("--tls and --wss need --cert and --key")
	case certFile == "":
		return nil, outbound, nil, nil
	}
	// SIGHUP reloads the certificate (certStore): handshakes ask for it.
	certs, err = loadCertStore(certFile, keyFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--cert %s --key %s: %w", certFile, keyFile, err)
	}
	server = &tls.Config{GetCertificate: certs.getCertificate, MinVersion: tls.VersionTLS12}
	outbound.GetClientCertificate = certs.getClientCertificate
	if pool != nil {
		// Clients send no certificate and authenticate with Digest;
		// relays present one, which must then verify (RFC 4976 6.3).
		// --require-client-cert makes every peer present one.
		server.ClientCAs = pool
		server.ClientAuth = tls.VerifyClientCertIfGiven
		if require {
			server.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return server, outbound, certs, nil
}

// checkLimits checks the flags that bound each other, naming them, before
// relay.New would refuse the Config in its own field names.
func checkLimits(c *cli.Context) error {
	minE, e, maxE := c.Duration("min-expires"), c.Duration("expires"), c.Duration("max-expires")
	if minE > e || e > maxE {
		return fmt.Errorf("want --min-expires <= --expires <= --max-expires; have %v, %v, %v", minE, e, maxE)
	}
	if f, m := c.Int("forward-chunk"), c.Int("max-chunk"); f > m {
		return fmt.Errorf("--forward-chunk %s is larger than --max-chunk %s", cliflag.FormatSize(f), cliflag.FormatSize(m))
	}
	return nil
}

// realmCheck refuses what cannot go in a Digest quoted-string.
func realmCheck(s string) error {
	for _, r := range s {
		if r == '"' || r == '\\' || r < ' ' || r == 0x7f {
			return errors.New("a realm cannot hold quotes, backslashes or control characters")
		}
	}
	return nil
}

func announce(log logging.LeveledLogger, l listener, cfg relay.Config) {
	a := l.l.Addr().(*net.TCPAddr)
	switch l.kind {
	case "tcp", "tls":
		scheme := "msrp"
		if l.kind == "tls" {
			scheme = "msrps"
		}
		log.Infof("listening %s on %s; clients AUTH to %s://%s;tcp", l.kind, a, scheme, net.JoinHostPort(cfg.Host, strconv.Itoa(a.Port)))
	case "ws", "wss":
		scheme := "msrp"
		if l.kind == "wss" {
			scheme = "msrps"
		}
		log.Infof("listening %s on %s; clients connect to %s://%s/ (subprotocol msrp) and AUTH to %s://%s;ws",
			l.kind, a, l.kind, a, scheme, net.JoinHostPort(cfg.Host, strconv.Itoa(a.Port)))
		if cfg.Web != nil {
			log.Infof("chat page on %s://%s/", map[string]string{"ws": "http", "wss": "https"}[l.kind], a)
		}
	}
	if (l.kind == "tcp" || l.kind == "ws") && !a.IP.IsLoopback() {
		log.Warnf("plain %s on non-loopback %s: meant for tests and TLS-terminating proxies; use --%s for clients on the network",
			l.kind, a, map[string]string{"tcp": "tls", "ws": "wss"}[l.kind])
	}
}

// announcePolicy says which next hops the relay will dial.
func announcePolicy(log logging.LeveledLogger, p relay.OutboundPolicy) {
	schemes := "msrps (TLS)"
	if p.Plain {
		schemes = "msrps and plain msrp"
	}
	allowed := ""
	if len(p.Allow) > 0 {
		allowed = " and " + strings.Join(p.Allow, ", ")
	}
	denied := ""
	if len(p.Deny) > 0 {
		denied = ", never " + strings.Join(p.Deny, ", ")
	}
	log.Infof("next hops: dials %s at public addresses%s%s (--outbound-allow, --outbound-deny, --outbound-plain)", schemes, allowed, denied)
}

func parseLevel(s string) (logging.LogLevel, error) {
	switch strings.ToLower(s) {
	case "error":
		return logging.LogLevelError, nil
	case "warn", "warning":
		return logging.LogLevelWarn, nil
	case "info":
		return logging.LogLevelInfo, nil
	case "debug":
		return logging.LogLevelDebug, nil
	case "trace":
		return logging.LogLevelTrace, nil
	}
	return 0, fmt.Errorf("--log-level %q: want error, warn, info, debug or trace", s)
}

// offIfZero maps a flag's 0 (no limit) to the transport's -1: there 0
// means the default.
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
