// Package relay implements an MSRP relay (RFC 4976) for clients that reach
// it over WebSocket (RFC 7977), TCP and TLS.
//
// A Server authenticates clients with AUTH and HTTP Digest, hands each a
// Use-Path URI bound to the connection the AUTH arrived on, and forwards
// SEND, REPORT and other requests hop by hop: it answers SENDs to the
// previous hop, watches each forwarded chunk with a transaction timer, and
// turns every failure into a failure REPORT to the original sender, so
// that nothing it accepted is lost silently. Bodies are streamed: a chunk is
// forwarded in pieces of at most Config.ForwardChunk bytes.
//
// Next hops are reached over a connection that exists when one may carry
// the request (reuse.go: a peer that connected from the URI's address, a
// mutually authenticated relay, an endpoint that sent into the session);
// otherwise the relay dials, under Config.Outbound (policy.go): by default
// only msrps next hops at public addresses.
//
// For operators, Stats returns the relay's counters (package metrics
// turns them into Prometheus metrics), Sessions lists the live sessions
// and CloseSession closes one, and Config.Events.OnSessionEnd reports
// each session's end with what went through it (package accounting).
// Counting costs the forwarding path plain increments: each reader
// gathers its burst's counts (tally.go) and adds them to the totals when
// it next waits for input.
//
// Concurrency: each connection has one reader goroutine, which runs the
// request handling for that connection; writes to a connection are
// serialised by the transport and block while the peer is slow, so a slow
// receiver slows its senders instead of growing the relay's memory. The
// session table and per-connection transaction tables are guarded by
// mutexes; timers run their callbacks on their own goroutines.
package relay
