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

// Config configures a Host, and through it every connection the Host
// accepts or dials. The zero value gives the defaults. New validates it
// once; the Host keeps its own copy.
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
	// TLSConfig is the server side's TLS: ServeTLS needs it (mutual TLS
	// when its ClientAuth asks for client certificates). Dial takes its
	// TLS settings from DialOptions instead.
	TLSConfig *tls.Config
	// AllowedOrigins lists the WebSocket Origins admitted besides same-origin
	// requests and requests without Origin (non-browsers), e.g.
	// "https://app.example.com"; "*" admits any. Empty admits none. An
	// entry that is not scheme://host[:port] makes New fail.
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

// withDefaults returns c with zero fields filled in, or an error for a
// value that makes no sense. New is its one caller.
func (c Config) withDefaults() (Config, error) {
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
		return c, fmt.Errorf("%w: negative size", ErrBadConfig)
	case c.WriteTimeout < 0, c.HandshakeTimeout < 0:
		return c, fmt.Errorf("%w: negative timeout", ErrBadConfig)
	}
	if c.LoggerFactory == nil {
		c.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	return c, nil
}
