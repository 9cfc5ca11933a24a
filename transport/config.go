package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
)

// Defaults applied to zero fields of Config.
const (
	DefaultMaxChunk         = 16 << 20
	DefaultPieceSize        = 64 << 10
	DefaultWriteTimeout     = 10 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultHeaderTimeout    = 30 * time.Second
	DefaultBodyTimeout      = 60 * time.Second
)

// Config configures listeners, handlers and dialers. The zero value gives
// the defaults; one Config is shared by all connections it creates.
type Config struct {
	// MaxChunk is the largest chunk body accepted, in bytes; a larger one
	// is answered 413 (Frame.Err). 0 means DefaultMaxChunk (16 MiB). The
	// WebSocket read limit is MaxChunk + MaxHeader + a little slack.
	MaxChunk int
	// MaxHeader bounds a chunk's header block. 0 means msrp.DefaultMaxHeader.
	MaxHeader int
	// PieceSize is the largest body piece one Read returns. 0 means
	// DefaultPieceSize (64 KiB).
	PieceSize int
	// WriteTimeout bounds each Send; a peer that does not take a chunk in
	// time is closed with ReasonSlowConsumer. 0 means DefaultWriteTimeout
	// (10s).
	WriteTimeout time.Duration
	// HandshakeTimeout bounds TLS and WebSocket handshakes. 0 means
	// DefaultHandshakeTimeout (10s).
	HandshakeTimeout time.Duration
	// HeaderTimeout bounds the time from a chunk's first byte (on
	// WebSocket, its message's first frame) to the end of its header
	// block; a peer that takes longer is closed with ReasonReadTimeout.
	// 0 means DefaultHeaderTimeout (30s), -1 no limit.
	HeaderTimeout time.Duration
	// BodyTimeout bounds each wait for more of a chunk whose header block
	// is in (or of the rest of its WebSocket message): a body that stops
	// for longer closes the connection with ReasonReadTimeout. A body that
	// keeps moving, however slowly, is traffic. 0 means
	// DefaultBodyTimeout (60s), -1 no limit.
	BodyTimeout time.Duration
	// Keepalive configures liveness probing (zero value: defaults).
	Keepalive keepalive.Config
	// Totals, if set, sums the keepalive counters of all connections.
	Totals *keepalive.Counters
	// Closes, if set, counts closed connections by reason.
	Closes *CloseCounters
	// TLSConfig enables TLS on ServeStream listeners (mutual TLS when its
	// ClientAuth asks for client certificates) and configures tls:// and
	// wss:// dialing. nil means plain TCP for ServeStream.
	TLSConfig *tls.Config
	// AllowedOrigins lists the WebSocket Origins admitted besides same-origin
	// requests and requests without Origin (non-browsers), e.g.
	// "https://app.example.com"; "*" admits any. Empty admits none.
	AllowedOrigins []string
	// DialContext, if set, opens the TCP connection under tcp:// and tls://
	// targets of Dial (the TLS handshake then runs over it), as in
	// net/http's Transport. nil means a net.Dialer. The relay's tests use
	// it to see every connection attempt.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// LocalURI is our own MSRP URI, the From-Path of bodiless-SEND probes
	// until the peer's traffic tells us what it calls us. "" means a URI
	// formed from the local address.
	LocalURI string
	// LoggerFactory makes the "transport" and "keepalive" loggers; nil
	// means logging.NewDefaultLoggerFactory().
	LoggerFactory logging.LoggerFactory
}

// config is a validated Config with defaults filled in, shared by every
// connection of one listener, handler or dialer.
type config struct {
	Config
	keepalive keepalive.Config
	probes    *keepalive.Scheduler // drives the Keepers of all its connections
	readLimit int64
	wsBufs    *wsBufPool // WebSocket message buffers
	log       logging.LeveledLogger
	kaLog     logging.LeveledLogger
	origins   originSet
}

func (c Config) normalize() (*config, error) {
	if c.MaxChunk == 0 {
		c.MaxChunk = DefaultMaxChunk
	}
	if c.MaxHeader == 0 {
		c.MaxHeader = msrp.DefaultMaxHeader
	}
	if c.PieceSize == 0 {
		c.PieceSize = DefaultPieceSize
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.HeaderTimeout == 0 {
		c.HeaderTimeout = DefaultHeaderTimeout
	}
	if c.BodyTimeout == 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	switch {
	case c.MaxChunk < 0, c.MaxHeader < 0, c.PieceSize < 0:
		return nil, fmt.Errorf("%w: negative size", ErrBadConfig)
	case c.WriteTimeout < 0, c.HandshakeTimeout < 0:
		return nil, fmt.Errorf("%w: negative timeout", ErrBadConfig)
	}
	probes, err := keepalive.NewScheduler(c.Keepalive)
	if err != nil {
		return nil, err
	}
	if c.LoggerFactory == nil {
		c.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	origins, err := parseOrigins(c.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	return &config{
		Config:    c,
		keepalive: probes.Config(),
		probes:    probes,
		readLimit: int64(c.MaxChunk) + int64(c.MaxHeader) + 1024,
		wsBufs:    newWSBufPool(c.PieceSize, c.MaxHeader),
		log:       c.LoggerFactory.NewLogger("transport"),
		kaLog:     c.LoggerFactory.NewLogger("keepalive"),
		origins:   origins,
	}, nil
}

// Validate reports whether c is usable, so a caller can fail at startup
// rather than on the first connection.
func (c Config) Validate() error {
	_, err := c.normalize()
	return err
}

func (c Config) loggerFactory() logging.LoggerFactory {
	if c.LoggerFactory == nil {
		return logging.NewDefaultLoggerFactory()
	}
	return c.LoggerFactory
}
