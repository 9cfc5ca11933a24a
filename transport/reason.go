package transport

import (
	"sync/atomic"
	"unicode/utf8"
)

// Kind is the kind of connection under a Conn.
type Kind uint8

// Connection kinds.
const (
	KindTCP Kind = iota
	KindTLS
	KindWS
	KindWSS
	numKinds
)

func (k Kind) String() string {
	switch k {
	case KindTCP:
		return "tcp"
	case KindTLS:
		return "tls"
	case KindWS:
		return "ws"
	case KindWSS:
		return "wss"
	}
	return "unknown"
}

// MarshalText returns the kind's name, so that JSON (expvar) shows maps
// keyed by Kind by name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// IsWebSocket reports whether k is ws or wss.
func (k Kind) IsWebSocket() bool { return k == KindWS || k == KindWSS }

// CloseReason says why a Conn was closed. Every close is logged once with
// the peer and the reason, and counted in its Host's Stats.
type CloseReason int

// Close reasons.
const (
	ReasonNone             CloseReason = iota // still open
	ReasonPeerClosed                          // the peer closed or sent a close frame
	ReasonReadError                           // reading failed (reset, I/O error)
	ReasonProtocolError                       // the peer broke MSRP or WebSocket framing
	ReasonKeepaliveTimeout                    // the peer stopped answering probes
	ReasonSlowConsumer                        // a write did not finish within WriteTimeout
	ReasonShutdown                            // we are shutting down
	ReasonFlood                               // the peer flooded Pings or bodiless SENDs
	ReasonPolicy                              // the layer above refused the peer (auth, probation, routing)
	ReasonLocal                               // the layer above is done with the connection
	ReasonWriteError                          // writing failed other than by timeout
	ReasonReadTimeout                         // a chunk begun was not finished in time (Config.HeaderTimeout, BodyTimeout)
	ReasonAdmin                               // an operator closed the connection (msrpd's DELETE /sessions/{id})
	numReasons
)

var reasonNames = [numReasons]string{
	"open", "peer-closed", "read-error", "protocol-error", "keepalive-timeout",
	"slow-consumer", "shutdown", "flood", "policy", "local-close", "write-error",
	"read-timeout", "admin-close",
}

func (r CloseReason) String() string {
	if r >= 0 && r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// MarshalText returns the reason's name, so that JSON (expvar) shows maps
// keyed by CloseReason by name.
func (r CloseReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// closeCounters counts closed connections by reason. The zero value is
// ready and safe for concurrent use.
type closeCounters struct {
	n [numReasons]atomic.Uint64
}

func (c *closeCounters) add(r CloseReason) {
	if r >= 0 && r < numReasons {
		c.n[r].Add(1)
	}
}

// count returns how many connections were closed for reason r.
func (c *closeCounters) count(r CloseReason) uint64 {
	if r < 0 || r >= numReasons {
		return 0
	}
	return c.n[r].Load()
}

// snapshot returns the non-zero counts by reason.
func (c *closeCounters) snapshot() map[CloseReason]uint64 {
	out := make(map[CloseReason]uint64)
	for r := ReasonPeerClosed; r < numReasons; r++ {
		if n := c.count(r); n > 0 {
			out[r] = n
		}
	}
	return out
}

// truncateUTF8 cuts s to at most n bytes without splitting a character:
// a close frame's reason must be valid UTF-8 and fit in 123 bytes.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
