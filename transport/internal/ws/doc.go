// Package ws is the WebSocket codec of package transport (RFC 6455
// section 5): a frame Reader, the frame writers, the masking, Close
// frames and the client's opening handshake. The server's handshake is
// gorilla/websocket's Upgrader, run by transport.
//
// It is a codec of its own rather than a library's because of what a
// relay holds: thousands of idle connections. A Reader keeps only a few
// fields per connection while idle (no buffer, no goroutine); a read-ahead
// buffer is taken from a pool only while input is waiting (on Linux, where
// the reader can wait for input without a buffer), and a data message's
// payload is handed to the caller as it arrives, so a message of any size
// costs a constant amount of memory. Frames are written as plain bytes, so
// that transport can batch them with its chunks and resume a write that
// timed out part way.
//
// Concurrency: a Reader belongs to one goroutine, the connection's reader,
// and calls its Handler on that goroutine. The frame writers are plain
// functions of their arguments, safe from any goroutine; the caller makes
// its writes single-writer (transport does it with a mutex), so that
// frames never interleave.
package ws
