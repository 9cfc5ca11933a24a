// Package keepalive keeps MSRP connections alive and finds dead peers.
//
// A Keeper watches one connection's traffic and probes the peer only when
// the connection has been idle, in both directions, for Config.Interval:
// with an RFC 6455 Ping frame where the link has frames (WebSocket), or with
// a bodiless MSRP SEND (RFC 4975 section 7.1) where it does not (TCP, TLS)
// or where the peer ignores Pings (mode auto switches once, with a log line).
// A probe not answered within Config.Timeout is a miss; after Config.Misses
// misses in a row the Keeper tells the link to close. A dead peer is
// therefore found within Interval + Misses×Timeout of its last sign of life
// (plus a little: see Config.DeadBound).
//
// The package never imports the transport: a connection plugs in through
// the small Link interface. Idle connections cost no goroutine and no
// timer: one Scheduler checks all the Keepers sharing a Config every tick
// (an eighth of the shorter of Interval and Timeout) and sends the probes
// that fell due together, which costs an idle process a quarter less CPU
// than one timer per connection did.
//
// Concurrency: Received, Pong and IsProbeResponse belong to the
// connection's reader goroutine; Sent may be called from any goroutine
// (usually under the connection's write lock); Stop from any goroutine, any
// number of times. Link methods other than ProbePaths are called from the
// Scheduler's sender goroutines, never with the Keeper's lock held. Counters are safe for concurrent use; a
// Limiter belongs to one goroutine.
package keepalive
