package keepalive

import "time"

// Limiter is a token bucket for inbound keepalives (Ping frames and
// bodiless SENDs). A peer may send FloodBurst of them at once and
// FloodRate per second sustained; anything beyond is a flood. Its zero
// value starts with a full bucket. It belongs to the connection's reader
// goroutine and is not safe for concurrent use. It is two words, so every
// connection can afford one.
type Limiter struct {
	debt float64 // tokens used beyond the refill; starts at 0 = full
	last int64   // monotonic nanoseconds of the last Allow
}

// Allow takes one token at now and reports whether the peer is within
// the limit of cfg (after WithDefaults). A negative FloodRate allows all.
func (l *Limiter) Allow(now time.Time, cfg *Config) bool {
	if cfg.FloodRate < 0 {
		return true
	}
	t := monoNanos(now)
	if l.last != 0 {
		l.debt -= float64(t-l.last) / 1e9 * cfg.FloodRate
		if l.debt < 0 {
			l.debt = 0
		}
	}
	l.last = t
	if l.debt+1 > float64(cfg.FloodBurst) {
		return false
	}
	l.debt++
	return true
}

// epoch anchors monotonic times: time.Since keeps the monotonic reading,
// so an int64 of nanoseconds since epoch is immune to wall-clock jumps.
var epoch = time.Now()

func monoNanos(t time.Time) int64 { return int64(t.Sub(epoch)) }
