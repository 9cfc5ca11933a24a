package keepalive

import "sync/atomic"

// Event is one countable keepalive event.
type Event int

// Events counted by Counters.
const (
	ProbeFrames  Event = iota // a Ping frame probe was sent
	ProbeSend                 // a bodiless SEND probe was sent
	Answer                    // a probe was answered (Pong or MSRP response)
	Miss                      // a probe was not answered within Timeout
	Timeout                   // a connection was closed after Misses misses
	ModeSwitch                // mode auto switched a WebSocket peer to SEND probes
	PingAnswered              // an inbound Ping frame got its Pong
	BodilessSend              // an inbound bodiless SEND was passed up
	Flood                     // a connection was closed for flooding keepalives
	numEvents
)

// Stats is a snapshot of keepalive counters.
type Stats struct {
	ProbesFrames  uint64 // Ping frames sent as probes
	ProbesSend    uint64 // bodiless SENDs sent as probes
	Answers       uint64 // probes answered
	Misses        uint64 // probes not answered in time
	Timeouts      uint64 // connections closed as dead
	ModeSwitches  uint64 // auto switches to bodiless SEND probing
	PingsAnswered uint64 // inbound Pings answered with Pongs
	BodilessSends uint64 // inbound bodiless SENDs
	Floods        uint64 // connections closed for flooding
}

// Counters counts keepalive events. The zero value is ready; it is safe for
// concurrent use. One lives in every connection, and one optional shared
// instance sums all of them (each transport.Host has one).
type Counters struct {
	n [numEvents]atomic.Uint64
}

// Add counts one e. A nil *Counters ignores it.
func (c *Counters) Add(e Event) {
	if c != nil && e >= 0 && e < numEvents {
		c.n[e].Add(1)
	}
}

// Snapshot returns the current counts.
func (c *Counters) Snapshot() Stats {
	if c == nil {
		return Stats{}
	}
	return Stats{
		ProbesFrames:  c.n[ProbeFrames].Load(),
		ProbesSend:    c.n[ProbeSend].Load(),
		Answers:       c.n[Answer].Load(),
		Misses:        c.n[Miss].Load(),
		Timeouts:      c.n[Timeout].Load(),
		ModeSwitches:  c.n[ModeSwitch].Load(),
		PingsAnswered: c.n[PingAnswered].Load(),
		BodilessSends: c.n[BodilessSend].Load(),
		Floods:        c.n[Flood].Load(),
	}
}
