// Package endpoint is the client side of MSRP through a relay: it dials a
// relay (RFC 4976) over WebSocket (RFC 7977), TCP or TLS, authenticates
// with AUTH and HTTP Digest, and holds one session, whose path
// (Use-Path, then our own URI) a peer puts in its To-Path.
//
// A session can also go without a relay (RFC 4975 section 5.4): its URI
// is on a Listener's address, and Connect either dials the peer's first
// path URI (a=setup:active, RFC 6135) or waits for the peer to connect
// to the Listener, which hands the connection to the session its first
// request names. Either way Connect starts the session the way SDP
// offer/answer says: the active side sends a bodiless SEND, the passive
// side waits for the peer's first request.
//
// An Endpoint sends messages chunked at Config.ChunkSize with a window of
// outstanding SEND chunks, each awaiting its 200 for Config.ChunkTimeout;
// failure REPORTs and non-200 responses fail the message with a
// *StatusError, and a message sent with SendOptions.SuccessReport also
// waits for its success REPORT. Incoming chunks are reassembled by
// Message-ID and Byte-Range, in any order, answered 200 (unless the
// sender's Failure-Report says not to), success REPORTs are sent when
// asked for, and complete messages are handed over whole (spooled to
// files above Config.SpoolThreshold when Config.SpoolDir is set).
// Bodiless SENDs (keepalives) are answered 200 and not delivered.
//
// A lost connection fails every outstanding send with ErrConnectionLost;
// with Config.ReconnectAttempts the Endpoint then re-dials with exponential
// backoff and AUTHs again, which gives a new Use-Path, reported through
// Config.OnEvent. The AUTH is refreshed before its Expires runs out.
//
// Concurrency:
//
//   - All methods of Endpoint are safe for concurrent use. Send, SendWith
//     and SendAsync may run from many goroutines at once; their chunks
//     share the window and never interleave on the wire.
//   - Each connection has one reader goroutine. It answers requests,
//     reassembles messages and calls Config.OnMessage; while OnMessage
//     runs no further chunk is read, which slows the sender (backpressure).
//     Without OnMessage, messages go to the Messages channel, and a reader
//     of it that falls behind has the same effect.
//   - SendAsync's done callback runs on the reader goroutine (responses,
//     REPORTs), on the timeout sweeper, or on the caller's goroutine; it
//     must not block, and must not wait for another message's completion.
//   - Config.OnEvent is called from the goroutine that made the change
//     (Dial's caller, the reader, the reconnect loop, the refresh timer).
//   - One sweeper goroutine per Endpoint checks timeouts a few times per
//     ChunkTimeout; an idle Endpoint costs two goroutines.
//   - A Listener has one accept goroutine; each accepted connection's
//     read loop runs on the goroutine that accepted it.
package endpoint
