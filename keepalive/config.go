package keepalive

import (
	"fmt"
	"strings"
	"time"
)

// Mode selects how a Keeper probes an idle peer.
type Mode string

// Probing modes.
const (
	// ModeAuto probes WebSocket peers with Ping frames and falls back, once
	// per connection, to bodiless SENDs when the peer answers those but not
	// Pings; other links get bodiless SENDs. It is the default.
	ModeAuto Mode = "auto"
	// ModeFrames probes with Ping frames only (links without frames get
	// bodiless SENDs, the only probe they have).
	ModeFrames Mode = "frames"
	// ModeSend probes with bodiless SENDs only, as a browser must.
	ModeSend Mode = "send"
	// ModeOff never probes; inbound Pings are still answered.
	ModeOff Mode = "off"
)

// ParseMode parses a mode name as given in a flag ("" means ModeAuto).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ModeAuto, nil
	case ModeAuto, ModeFrames, ModeSend, ModeOff:
		return m, nil
	}
	return "", fmt.Errorf("%w: %q (want auto, frames, send or off)", ErrBadMode, s)
}

// Defaults applied to zero fields of Config.
const (
	DefaultInterval   = 20 * time.Second
	DefaultTimeout    = 20 * time.Second
	DefaultMisses     = 2
	DefaultFloodRate  = 10.0
	DefaultFloodBurst = 20
)

// Config tunes keepalive. The zero value gives the defaults.
type Config struct {
	// Interval is how long a connection must be idle, in both directions,
	// before it is probed. 0 means DefaultInterval (20s); a negative value
	// disables probing (inbound Pings are still answered).
	Interval time.Duration
	// Timeout is how long a probe may wait for its answer before it counts
	// as a miss. 0 means DefaultTimeout (20s).
	Timeout time.Duration
	// Misses is how many unanswered probes in a row close the connection.
	// 0 means DefaultMisses (2). Mode auto needs at least 2 to try the
	// bodiless-SEND fallback before giving up on a peer.
	Misses int
	// Mode selects the probe; "" means ModeAuto.
	Mode Mode
	// FloodRate is the sustained rate, per second, of inbound Ping frames
	// and bodiless SENDs a peer may send; past it (and FloodBurst) the
	// connection is closed as a flood. 0 means DefaultFloodRate (10/s); a
	// negative value disables the limit.
	FloodRate float64
	// FloodBurst is the token bucket's depth. 0 means DefaultFloodBurst (20).
	FloodBurst int
}

// WithDefaults returns c with every zero field set to its default, or an
// error for a value that makes no sense.
func (c Config) WithDefaults() (Config, error) {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Misses == 0 {
		c.Misses = DefaultMisses
	}
	if c.FloodRate == 0 {
		c.FloodRate = DefaultFloodRate
	}
	if c.FloodBurst == 0 {
		c.FloodBurst = DefaultFloodBurst
	}
	m, err := ParseMode(string(c.Mode))
	if err != nil {
		return c, err
	}
	c.Mode = m
	switch {
	case c.Timeout < 0:
		return c, fmt.Errorf("%w: negative timeout %v", ErrBadConfig, c.Timeout)
	case c.Misses < 0:
		return c, fmt.Errorf("%w: negative misses %d", ErrBadConfig, c.Misses)
	case c.FloodBurst < 0:
		return c, fmt.Errorf("%w: negative flood burst %d", ErrBadConfig, c.FloodBurst)
	}
	return c, nil
}

// Enabled reports whether c (after WithDefaults) probes at all.
func (c Config) Enabled() bool { return c.Interval > 0 && c.Mode != ModeOff }

// DeadBound is the longest a dead peer stays connected after its last sign
// of life: Interval + Misses×Timeout, plus up to a Scheduler tick for each
// of those steps.
func (c Config) DeadBound() time.Duration {
	return c.Interval + time.Duration(c.Misses)*c.Timeout + time.Duration(c.Misses+1)*c.tick()
}

// tick is how often a Scheduler for c looks for due probes: an eighth of
// the shorter of Interval and Timeout, so probes leave within an eighth of
// their time.
func (c Config) tick() time.Duration {
	return max(min(c.Interval, c.Timeout)/8, time.Millisecond)
}
