package endpoint

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/srv"
	"github.com/msrpd/msrpd/transport"
)

// Defaults applied to zero fields of Config.
const (
	DefaultChunkSize       = 2048
	DefaultWindow          = 16
	DefaultChunkTimeout    = 30 * time.Second
	DefaultReportTimeout   = 120 * time.Second
	DefaultDialTimeout     = 10 * time.Second
	DefaultBackoffInitial  = time.Second
	DefaultBackoffMax      = 30 * time.Second
	DefaultMaxMessage      = 64 << 20
	DefaultSpoolThreshold  = 1 << 20
	DefaultInboxSize       = 64
	DefaultRefreshFraction = 0.8
)

// Config configures an Endpoint. The zero value of every field except
// Relay (or Listener) means its default.
type Config struct {
	// Relay is the relay to connect to: ws://host:port/path, wss://...,
	// msrp://host:port;tcp or msrps://host:port;tcp (also tcp://host:port
	// and tls://host:port). "" means no relay: Listener is then required.
	Relay string
	// Relays are more relays, tried in turn after Relay when it cannot be
	// reached, and when the connection to one is lost: the next one gets
	// the new AUTH (and the Use-Path changes). An msrp or msrps URI
	// without a port, here or in Relay (msrps://example.com;tcp), names
	// a domain whose relays are found through its SRV records (RFC 4976
	// section 8), tried in their order; the AUTH goes to that URI.
	Relays []string
	// Resolver looks up SRV records and relay host names. Default:
	// srv.System(), the system's DNS.
	Resolver srv.Resolver
	// Listener, for a session without a relay, gives our URI its address
	// and accepts the peer's connection when we are passive (RFC 6135).
	// It is used only when Relay is "".
	Listener *Listener
	// RelayURI overrides the URI the AUTH is addressed to (its To-Path and
	// Digest uri). "" means msrp[s]://host:port;ws for a WebSocket URL and
	// msrp[s]://host:port;tcp for a TCP or TLS one.
	RelayURI string
	// User and Password are the Digest credentials.
	User, Password string
	// DigestMethod is the method name hashed into the Digest response.
	// "" means "AUTH" (RFC 4976); some relays expect "MSRP" (Crocodile's
	// digestMethod option).
	DigestMethod string
	// Expires is the Use-Path lifetime asked for in AUTH. 0 means none is
	// sent and the relay picks (Kamailio 5.6 refuses an authenticated AUTH
	// that carries Expires). A 423 answer is retried with the relay's bound.
	Expires time.Duration
	// Keepalive configures liveness probing of the relay connection
	// (Interval < 0 disables it). The zero value gives keepalive defaults.
	Keepalive keepalive.Config
	// ReconnectAttempts is how many times a lost connection is re-dialled
	// (each with a new AUTH and Use-Path). 0 means never; -1 means forever.
	ReconnectAttempts int
	// BackoffInitial is the wait before the first reconnect attempt; it
	// doubles after each failure up to BackoffMax. 0 means 1s and 30s.
	BackoffInitial, BackoffMax time.Duration
	// ChunkSize is the largest body of one outgoing SEND chunk. 0 means
	// DefaultChunkSize (2048).
	ChunkSize int
	// Window is how many SEND chunks may await their 200 at once on this
	// endpoint. 0 means DefaultWindow (16).
	Window int
	// ChunkTimeout is how long a SEND chunk may wait for its response.
	// 0 means 30s (RFC 4975 section 7.1.1).
	ChunkTimeout time.Duration
	// ReportTimeout is how long a message sent with a success report
	// requested waits for the REPORT after its last 200. 0 means 120s.
	ReportTimeout time.Duration
	// DialTimeout bounds dialling and the AUTH exchange. 0 means 10s.
	DialTimeout time.Duration
	// MaxMessage is the largest incoming message accepted; larger ones get
	// 413. 0 means DefaultMaxMessage (64 MiB).
	MaxMessage int64
	// SpoolDir, if set, receives incoming messages larger than
	// SpoolThreshold as files instead of memory (Message.File).
	SpoolDir string
	// SpoolThreshold is the size above which messages are spooled to
	// SpoolDir. 0 means DefaultSpoolThreshold (1 MiB).
	SpoolThreshold int64
	// NewBody, if set, returns the buffer an incoming message of size bytes
	// is assembled in (at least size long; its contents do not matter, a
	// message is delivered only once every byte arrived). nil means make.
	// With it an application done with a Message.Body can reuse it for a
	// later message, which a load generator needs at high rates: a new
	// buffer per message is mostly spent clearing memory and collecting it.
	NewBody func(size int64) []byte
	// OnMessage, if set, is called on the connection's reader goroutine for
	// every complete incoming message; while it runs no further chunk is
	// read (backpressure), and what the endpoint sends meanwhile (the 200s
	// of the chunks just read, SENDs from other goroutines) is queued and
	// written, in one go, when the reader next waits for input. So it must
	// not wait for a response. If nil, messages go to Endpoint.Messages.
	OnMessage func(*Message)
	// OnEvent, if set, is called for connection events (reconnects, new
	// Use-Paths, refreshes); it must not block.
	OnEvent func(Event)
	// TLSConfig is used for wss:// and msrps:// relays. nil means Go's
	// defaults: the system's roots, and the relay URL's host as the
	// server name.
	TLSConfig *tls.Config
	// TLS are file-based TLS client settings (a private CA, a client
	// certificate, ...), applied on top of TLSConfig.
	TLS TLSOptions
	// Transport, if set, is the transport Host the endpoint dials
	// through, shared with other endpoints (see NewTransport); its
	// keepalive and resolver then apply instead of Keepalive and
	// Resolver. nil means one of the endpoint's own, closed with it.
	Transport *transport.Host
	// LoggerFactory makes the "endpoint" logger and the transport's
	// loggers; nil means logging.NewDefaultLoggerFactory().
	LoggerFactory logging.LoggerFactory
}

// withDefaults returns cfg with zero fields filled in.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Relay == "" && cfg.Listener == nil {
		return cfg, fmt.Errorf("%w: Relay or Listener is required", ErrBadConfig)
	}
	if cfg.Relay == "" {
		// The session is the connection to the peer: when it is lost, a
		// new one would need a new SDP exchange.
		cfg.ReconnectAttempts = 0
	}
	if cfg.DigestMethod == "" {
		cfg.DigestMethod = "AUTH"
	}
	setDefault(&cfg.BackoffInitial, DefaultBackoffInitial)
	setDefault(&cfg.BackoffMax, DefaultBackoffMax)
	setDefault(&cfg.ChunkSize, DefaultChunkSize)
	setDefault(&cfg.Window, DefaultWindow)
	setDefault(&cfg.ChunkTimeout, DefaultChunkTimeout)
	setDefault(&cfg.ReportTimeout, DefaultReportTimeout)
	setDefault(&cfg.DialTimeout, DefaultDialTimeout)
	setDefault(&cfg.MaxMessage, DefaultMaxMessage)
	setDefault(&cfg.SpoolThreshold, DefaultSpoolThreshold)
	switch {
	case cfg.ChunkSize < 0, cfg.Window < 0, cfg.MaxMessage < 0, cfg.SpoolThreshold < 0:
		return cfg, fmt.Errorf("%w: negative size", ErrBadConfig)
	case cfg.Expires < 0, cfg.ChunkTimeout < 0, cfg.ReportTimeout < 0, cfg.DialTimeout < 0,
		cfg.BackoffInitial < 0, cfg.BackoffMax < 0:
		return cfg, fmt.Errorf("%w: negative duration", ErrBadConfig)
	case cfg.ReconnectAttempts < -1:
		return cfg, fmt.Errorf("%w: ReconnectAttempts must be >= -1", ErrBadConfig)
	}
	if cfg.TLS != (TLSOptions{}) {
		tc, err := cfg.TLS.ClientConfig(cfg.TLSConfig)
		if err != nil {
			return cfg, err
		}
		cfg.TLSConfig = tc
	}
	if cfg.LoggerFactory == nil {
		cfg.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	return cfg, nil
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}
