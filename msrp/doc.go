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
// Framing contracts, shared by the Reader and Parse (one scanner, one header
// parser):
//
//   - The header block, including its blank line or bodiless end-line, must
//     fit in maxHeader bytes; otherwise a fatal 413. A Reader holds one
//     buffer of max(64 KiB, maxHeader+1) bytes and never more, whatever the
//     peer sends; bodies stream through it in pieces.
//   - A body ends at the first CRLF + "-------" + its own transaction id +
//     flag. End-lines of other transactions are body. A bare end-line right
//     after the blank line is taken leniently as an empty body.
//   - Header values with control characters (other than HTAB), a header
//     line without a colon or with a name not starting with a letter,
//     missing or repeated To-Path/From-Path, a bad Byte-Range, and a
//     Content-Type in a bodiless request give a non-fatal 400 with the
//     Message. The URIs in the paths are not parsed here; the caller does
//     that when it routes.
//   - Lines may end in LF alone (lenient); the Writer always writes CRLF
//     and puts To-Path, From-Path first and Content-Type last, so a round
//     trip keeps every header but may reorder them to that canonical order.
//   - The Writer refuses a body holding "-------" + its transaction id + a
//     flag anywhere (ErrEndLineInBody), which is stricter than what the
//     readers would misread, so that no body can end early.
//
// Concurrency: a Reader or Writer belongs to one goroutine at a time.
// Messages are plain values; do not modify one that another goroutine reads.
package msrp
