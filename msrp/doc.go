// Package msrp implements the wire format of the Message Session Relay
// Protocol (RFC 4975) with the relay extensions of RFC 4976: messages,
// URIs, paths, Byte-Range and Status headers, a streaming Reader for byte
// streams (TCP, TLS), a whole-chunk parser for transports that deliver one
// chunk per message (WebSocket, RFC 7977), and a Writer.
//
// The package does no network I/O policy of its own: it never dials, never
// sets deadlines and never logs. Errors say what is wrong and whether the
// framing of the stream survived (see ParseError), so the caller can answer
// 400 and go on reading, or must close the connection.
//
// Bodiless requests (RFC 4975 section 7.1: the end-line follows the header
// block directly) are ordinary messages whose Body is nil. They are accepted
// from any peer and written byte-exact.
//
// Concurrency: a Reader or Writer belongs to one goroutine at a time.
// Messages are plain values; do not modify one that another goroutine reads.
package msrp
