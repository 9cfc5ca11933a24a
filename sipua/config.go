package sipua

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/pion/logging"
)

// DefaultTimeout bounds each non-INVITE transaction, the wait for an ACK
// and for the response to a CANCEL.
const DefaultTimeout = 10 * time.Second

// DefaultRingTimeout is how long an INVITE waits for its final response
// before it is cancelled.
const DefaultRingTimeout = 60 * time.Second

// Errors callers branch on.
var (
	// ErrBadConfig is returned by New for a Config that makes no sense.
	ErrBadConfig = errors.New("sipua: bad config")
	// ErrTimeout means a step got no answer in time.
	ErrTimeout = errors.New("sipua: timeout")
	// ErrCanceled means an INVITE was cancelled (CANCEL sent or received).
	ErrCanceled = errors.New("sipua: call cancelled")
	// ErrNoACK means the caller never acknowledged our 200.
	ErrNoACK = errors.New("sipua: no ACK for the 200")
)

// StatusError is a final non-2xx SIP response to one of our requests.
type StatusError struct {
	Method string
	Code   int
	Reason string
	// Warning is the response's Warning header, if any.
	Warning string
}

// Error reads like "INVITE: 486 Busy Here".
func (e *StatusError) Error() string {
	s := fmt.Sprintf("sipua: %s: %d %s", e.Method, e.Code, e.Reason)
	if e.Warning != "" {
		s += " (Warning: " + e.Warning + ")"
	}
	return s
}

// Config configures a UA. The zero value of every field means its
// default.
type Config struct {
	// Listen are the addresses to receive SIP on: "udp:HOST:PORT",
	// "tcp:HOST:PORT", "tls:HOST:PORT", or "HOST:PORT" for UDP and TCP on
	// the same port. Port 0 picks a free one. Empty means
	// "127.0.0.1:0".
	Listen []string
	// Host is the host of our Contact and Via. "" means the listening IP,
	// or, for an unspecified one, the address that reaches ContactFor.
	Host string
	// ContactFor is a host:port whose route picks our address when Host
	// is empty and we listen on an unspecified address (a call's target).
	ContactFor string
	// User is the user part of our Contact and From URIs. "" means
	// "msrpcat".
	User string
	// Domain is the host of our From URI (the address-of-record). ""
	// means the Contact host.
	Domain string
	// DisplayName is put in From.
	DisplayName string
	// AuthUser and Password answer Digest challenges (401, 407).
	// AuthUser "" means User.
	AuthUser, Password string
	// Proxy is an outbound proxy URI (sip:host:port;transport=tcp) that
	// INVITEs and REGISTERs are sent through (loose routing, RFC 3261
	// section 16.12).
	Proxy string
	// TLSConfig is used for tls: targets. ServerTLS, for tls: listeners.
	TLSConfig, ServerTLS *tls.Config
	// Timeout bounds each non-INVITE transaction and the wait for an ACK.
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is the User-Agent header. "" means "msrpcat".
	UserAgent string
	// OnInvite is called for each new INVITE, on a goroutine of its own;
	// it must Accept or Reject the call before it returns (else the call
	// gets 500). nil rejects every call with 480.
	OnInvite func(*Incoming)
	// LoggerFactory makes the "sip" and "sipgo" loggers; nil means
	// logging.NewDefaultLoggerFactory().
	LoggerFactory logging.LoggerFactory
}

func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{"127.0.0.1:0"}
	}
	if cfg.User == "" {
		cfg.User = "msrpcat"
	}
	if cfg.AuthUser == "" {
		cfg.AuthUser = cfg.User
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < 0 {
		return cfg, fmt.Errorf("%w: negative Timeout", ErrBadConfig)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "msrpcat"
	}
	if cfg.LoggerFactory == nil {
		cfg.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	return cfg, nil
}
