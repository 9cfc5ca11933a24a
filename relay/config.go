package relay

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/msrpd/msrpd/transport"
	"github.com/pion/logging"
)

// Defaults for zero Config fields.
const (
	defaultExpires               = 30 * time.Minute
	defaultMinExpires            = time.Minute
	defaultMaxExpires            = 2 * time.Hour
	defaultMaxChunk              = 16 << 20
	defaultForwardChunk          = 64 << 10
	defaultMaxConnections        = 10000
	defaultTransactionTimeout    = 30 * time.Second
	defaultProbation             = 30 * time.Second
	defaultDialTimeout           = 10 * time.Second
	defaultMaxAuthFailures       = 3
	defaultAuthFailuresPerSource = 20
	defaultSessionsPerConn       = 64
	defaultPort                  = 2855
	maxNonSendBody               = 10240 // RFC 4975 section 7.1
)

// Config configures a Server. The zero value of every field means its
// default, so Config{Credentials: creds} is a working relay on loopback.
type Config struct {
	// Host is the host name put in the relay's URIs (Use-Path and
	// From-Path). Default: the machine's host name.
	Host string
	// Port is the port put in the relay's URIs. It should be the relay's
	// TCP or TLS listening port, since RFC 7977 clients get `;tcp`
	// Use-Paths. Default: 2855.
	Port int
	// Secure makes the relay's URIs msrps:// (a TLS listener is present).
	Secure bool
	// Aliases are further host names and addresses that requests may use
	// to address this relay (listen addresses, the WebSocket URL's host).
	Aliases []string
	// Realm is the Digest realm. Default: Host.
	Realm string
	// Domains are the domains this relay serves besides Realm, each with
	// its own Digest realm and Use-Path host. An AUTH whose To-Path host
	// is a domain's Name (msrps://example.com;tcp, the URI RFC 4976
	// section 8 finds through the domain's SRV records), or its Host when
	// no other domain has that Host, is challenged in the realm Name and
	// its session's URI names Host. Other AUTHs use Realm and Host.
	Domains []Domain
	// Credentials supplies the users' HA1 values, looked up by user and
	// realm. Required.
	Credentials CredentialStore
	// NonceSecret signs Digest nonces. Default: 32 random bytes, so nonces
	// do not survive a restart.
	NonceSecret []byte
	// NonceLifetime is how long a nonce stays fresh. Default: 5 minutes.
	NonceLifetime time.Duration
	// Expires is the lifetime of a Use-Path URI when the AUTH asks for
	// none; MinExpires and MaxExpires bound what an AUTH may ask for
	// (423 outside). Defaults: 30 minutes, 1 minute, 2 hours.
	Expires, MinExpires, MaxExpires time.Duration
	// MaxChunk is the largest chunk body accepted (413 beyond).
	// Default: 16 MiB.
	MaxChunk int
	// ForwardChunk is the largest body piece forwarded in one chunk; bigger
	// chunks are re-chunked with correct Byte-Range and flags.
	// Default: 64 KiB.
	ForwardChunk int
	// MaxConnections bounds concurrent connections; -1 means no limit.
	// Default: 10000.
	MaxConnections int
	// MaxAuthFailures is how many failed AUTHs close a connection.
	// Default: 3.
	MaxAuthFailures int
	// MaxAuthFailuresPerSource bounds failed AUTHs from one IP address per
	// AuthFailureWindow, across connections: past it, every AUTH from that
	// address closes its connection until the window ends. -1 disables.
	// Defaults: 20 per minute.
	MaxAuthFailuresPerSource int
	AuthFailureWindow        time.Duration
	// BlockUnknownMethods answers methods other than SEND, REPORT and AUTH
	// with 501 instead of forwarding them.
	BlockUnknownMethods bool
	// TransactionTimeout is how long a forwarded SEND may wait for its
	// response before a 408 failure REPORT. Default: 30 s (RFC 4976).
	TransactionTimeout time.Duration
	// Probation is how long a new connection has to make a request that
	// succeeds. Default: 30 s (RFC 4976 section 6.1).
	Probation time.Duration
	// DialTimeout bounds dialling a next-hop relay. Default: 10 s.
	DialTimeout time.Duration
	// OutboundTLS is used to dial msrps next hops (relay-to-relay TLS,
	// mutual when it holds a client certificate). Default: system roots.
	// The next hop's certificate is always verified: InsecureSkipVerify
	// is refused.
	OutboundTLS *tls.Config
	// Outbound says which next hops the relay may dial. The zero value
	// admits only msrps next hops at public addresses (see
	// OutboundPolicy).
	Outbound OutboundPolicy
	// Transport configures every connection: write and read timeouts,
	// keepalive, WebSocket origins, TLS for listeners. New builds the
	// relay's one transport.Host from it and fails on a bad setting; its
	// PieceSize and MaxChunk are ignored, the relay's ForwardChunk and
	// MaxChunk take their place. New never changes it.
	Transport transport.Config
	// Web answers the requests of the WebSocket listeners that are not
	// WebSocket handshakes (no "Upgrade: websocket"): the chat page of
	// package web in msrpd. nil answers them 404.
	Web http.Handler
	// Events are callbacks on the relay's life (session ends), for
	// accounting and metrics. The zero value calls none.
	Events Events
	// LoggerFactory makes the relay's loggers. Default: pion's default.
	LoggerFactory logging.LoggerFactory
}

// Domain is one domain of Config.Domains.
type Domain struct {
	// Name is the domain: its Digest realm, and a host name AUTHs may be
	// addressed to.
	Name string
	// Host is the host name put in the Use-Path of the domain's sessions;
	// the relay's certificate must name it. Default: Config.Host.
	Host string
}

var (
	errBadDomain     = errors.New("relay: bad domain")
	errNoCredentials = errors.New("relay: Config.Credentials is required")
	errExpiresBounds = errors.New("relay: need MinExpires <= Expires <= MaxExpires")
	errForwardChunk  = errors.New("relay: ForwardChunk must be between 2048 and MaxChunk")
	errInsecureTLS   = errors.New("relay: OutboundTLS.InsecureSkipVerify: next hops' certificates must be verified")
)

// withDefaults returns cfg with zero fields filled in, or an error when the
// fields contradict each other.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Credentials == nil {
		return cfg, errNoCredentials
	}
	if cfg.Host == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		cfg.Host = h
	}
	setDefault(&cfg.Port, defaultPort)
	doms := make([]Domain, 0, len(cfg.Domains))
	seen := map[string]bool{}
	for _, d := range cfg.Domains {
		if !validName(d.Name) || (d.Host != "" && !validHost(d.Host)) {
			return cfg, fmt.Errorf("%w: %q (host %q)", errBadDomain, d.Name, d.Host)
		}
		if seen[hostKey(d.Name)] {
			return cfg, fmt.Errorf("%w: %q given twice", errBadDomain, d.Name)
		}
		seen[hostKey(d.Name)] = true
		if d.Host == "" {
			d.Host = cfg.Host
		}
		doms = append(doms, d)
	}
	cfg.Domains = doms
	if cfg.Realm == "" {
		cfg.Realm = cfg.Host
	}
	setDefault(&cfg.NonceLifetime, defaultNonceLifetime)
	setDefault(&cfg.Expires, defaultExpires)
	setDefault(&cfg.MinExpires, defaultMinExpires)
	setDefault(&cfg.MaxExpires, defaultMaxExpires)
	if cfg.MinExpires > cfg.Expires || cfg.Expires > cfg.MaxExpires {
		return cfg, fmt.Errorf("%w (have %v, %v, %v)", errExpiresBounds, cfg.MinExpires, cfg.Expires, cfg.MaxExpires)
	}
	setDefault(&cfg.MaxChunk, defaultMaxChunk)
	setDefault(&cfg.ForwardChunk, defaultForwardChunk)
	if cfg.ForwardChunk < 2048 || cfg.ForwardChunk > cfg.MaxChunk {
		return cfg, errForwardChunk
	}
	setDefault(&cfg.MaxConnections, defaultMaxConnections)
	setDefault(&cfg.MaxAuthFailures, defaultMaxAuthFailures)
	setDefault(&cfg.MaxAuthFailuresPerSource, defaultAuthFailuresPerSource)
	setDefault(&cfg.AuthFailureWindow, time.Minute)
	setDefault(&cfg.TransactionTimeout, defaultTransactionTimeout)
	setDefault(&cfg.Probation, defaultProbation)
	setDefault(&cfg.DialTimeout, defaultDialTimeout)
	if cfg.OutboundTLS != nil && cfg.OutboundTLS.InsecureSkipVerify {
		return cfg, errInsecureTLS
	}
	if cfg.LoggerFactory == nil {
		cfg.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	return cfg, nil
}

// newHost builds the relay's transport Host of cfg (with its defaults):
// cfg.Transport with the relay's chunk limits and logger, a copy, so
// that cfg.Transport stays as given.
func newHost(cfg *Config) (*transport.Host, error) {
	tc := cfg.Transport
	// The transport must hand us pieces no longer than we forward, and
	// accept chunks as large as we do.
	tc.PieceSize = cfg.ForwardChunk
	tc.MaxChunk = cfg.MaxChunk
	if tc.LoggerFactory == nil {
		tc.LoggerFactory = cfg.LoggerFactory
	}
	h, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("relay: Config.Transport: %w", err)
	}
	return h, nil
}

// validHost accepts a host name or an IP address.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return true
	}
	return validName(h)
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// hostPort formats the relay's authority for its URIs.
func (cfg *Config) hostPort() string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
}
