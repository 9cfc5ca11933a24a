// Package transport carries MSRP chunks over WebSocket (RFC 7977, with the
// "msrp" subprotocol), TCP and TLS, on the server side (Host.ServeStream,
// Host.ServeTLS, Host.WebSocketHandler) and the client side (Host.Dial),
// and keeps every connection alive with a keepalive.Keeper.
//
// A process makes one Host per relay or endpoint with New, which checks
// the Config once; the Host's connections share its keepalive Scheduler,
// loggers and counters (Host.Stats).
//
// A Conn moves one whole chunk per Send and returns incoming chunks as
// Frames, pieces of at most Config.PieceSize bytes. On TCP and TLS the
// pieces come straight out of the msrp.Reader's buffer; on WebSocket each
// message is exactly one chunk, parsed as its payload arrives (wsmsrp.go)
// and handed out in pieces of one pooled buffer, so a chunk of any size
// costs a connection the same few buffers. Either way a piece is valid
// only until the next Read.
//
// Concurrency:
//
//   - Read belongs to one goroutine, the connection's reader. It handles
//     the peer's Ping, Pong and Close frames as it meets them: a Pong or
//     a Close frame in answer goes out through the write path below.
//   - Send may be called from any number of goroutines: a mutex makes the
//     write path single-writer, so chunks never interleave, and a slow
//     peer blocks its senders (backpressure); one that takes nothing for
//     WriteTimeout is closed as a slow consumer. Only a connection held
//     with Hold queues chunks, at most 64 KiB, until its Release.
//   - WebSocket frames are read and written by our own codec, package
//     transport/internal/ws (RFC 6455 section 5; github.com/gorilla/websocket
//     only runs the server's handshake), so an idle connection keeps no
//     WebSocket library state and no buffer. Every frame, data or
//     control, is written whole in one Write under the same mutex, so
//     frames never interleave.
//   - SetBeforeRead's function runs on the reader goroutine just before it
//     waits for network input.
//   - Keepalive probes are sent by the keepalive Scheduler of the
//     connection's Host, from short-lived sender goroutines; an idle
//     connection has no goroutine besides its reader, and no timer.
//   - Close, Done, Reason, Stats, PeerURI and LocalURI are safe from any
//     goroutine; Close is idempotent and the first reason wins.
//
// Every close carries a CloseReason that is logged once with the peer's
// address and counted in its Host's Stats.
//
// A Host is safe for concurrent use: its Serve methods, handlers, Dial,
// Stats and Close may be called from any goroutine.
package transport
