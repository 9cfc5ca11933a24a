package msrp

import "bytes"

// Scanners for input that arrives in pieces but whose bounds are known, such
// as a WebSocket message (RFC 7977 section 5.1: one chunk per message): the
// caller keeps the bytes, the scanners say where the header block and the
// body end. The Reader finds chunks in a stream with the same code, so the
// two cannot disagree.

// HeadScanner finds and parses a chunk's header block in input that grows
// between calls: each Scan looks only at bytes it has not examined yet, so
// feeding a block a byte at a time costs linear work. The zero value is
// ready for a chunk's first bytes.
type HeadScanner struct{ s headScan }

// Reset prepares h for the next chunk.
func (h *HeadScanner) Reset() { h.s = headScan{} }

// Scan examines data, the chunk from its start line on; data may only grow
// between calls (the same bytes, maybe more). It returns:
//
//   - m == nil and err == nil: the block is not complete, call again with
//     more data;
//   - m != nil: the block is complete and its first n bytes of data make
//     it up, through the blank line or, for a bodiless request, through
//     the end-line (then m.Body is nil and m.Flag is set; otherwise m.Body
//     is empty and not nil). err may be a non-fatal *ParseError about m;
//   - a fatal *ParseError: the block cannot be used. When it exceeds
//     maxHeader (Code 413), m is the start line and the header lines before
//     the limit if they hold a To-Path and a From-Path, so that the 413 can
//     be answered; otherwise m is nil.
func (h *HeadScanner) Scan(data []byte, maxHeader int) (m *Message, n int, err error) {
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeader
	}
	res, err := h.s.scan(data, maxHeader)
	if err != nil {
		return h.s.partial(data, err), 0, err
	}
	if res == headMore {
		return nil, 0, nil
	}
	m, err = h.s.message(data, res == headBodiless)
	if m == nil {
		return nil, 0, err
	}
	return m, h.s.next, err
}

// message parses the header block s found in data.
func (s *headScan) message(data []byte, bodiless bool) (*Message, error) {
	m, err := parseHead(string(data[:s.blockEnd]), s.lines, bodiless)
	if m == nil {
		return nil, err
	}
	if bodiless {
		m.Flag = s.flag
	} else {
		m.Body = []byte{}
	}
	return m, err
}

// partial returns what can answer a header block over the limit (err, a
// 413): its start line and complete header lines, when they name the
// paths a response needs. Responses are never answered, so a response's
// block gives nil.
func (s *headScan) partial(data []byte, err error) *Message {
	pe, ok := err.(*ParseError)
	if !ok || pe.Code != 413 || s.tidLen == 0 || s.pos == 0 {
		return nil
	}
	m, _ := parseHead(string(data[:s.pos]), s.lines, false)
	if m == nil || !m.IsRequest() || m.Header(HeaderToPath) == "" || m.Header(HeaderFromPath) == "" {
		return nil
	}
	return m
}

// EndScanner finds a chunk's end-line (RFC 4975 section 7.1: CRLF,
// "-------", the transaction id and a flag) in its body as the body
// arrives. End-lines with another transaction id are body.
type EndScanner struct {
	marker  []byte // "\r\n-------" + transaction id
	atStart bool   // no body byte consumed yet
}

// Reset prepares e for the body of the chunk with transaction id tid.
func (e *EndScanner) Reset(tid string) {
	e.marker = append(append(e.marker[:0], "\r\n"+endLineDashes...), tid...)
	e.atStart = true
}

// TransactionID returns the transaction id e looks for.
func (e *EndScanner) TransactionID() string { return string(e.marker[len("\r\n"+endLineDashes):]) }

// MaxEndLine is the length of the longest end-line with its CRLF in front
// (and its flag): whatever follows a body's last byte up to the next chunk.
const MaxEndLine = 2 + len(endLineDashes) + maxTIDLen + 1

// Consumed tells e that the caller took n bytes of body (the first n that
// Scan reported), so that data passed to Scan starts after them.
func (e *EndScanner) Consumed(n int) {
	if n > 0 {
		e.atStart = false
	}
}

// Scan looks at the body bytes not consumed yet, of which the first from
// are known to be body already (an earlier Scan said so): only the rest is
// searched. It returns how many of them are certainly body (n); endLen > 0
// when an end-line of that many bytes (its flag last) starts at data[n];
// otherwise need > 0 tells how many more bytes it takes to decide about
// data[n:].
func (e *EndScanner) Scan(data []byte, from int) (n, endLen, need int) {
	m := e.marker
	if e.atStart && from == 0 {
		// Lenient: an empty body whose end-line lacks the CRLF before it.
		bare := m[2:]
		if len(data) > len(bare) && bytes.HasPrefix(data, bare) && isFlag(data[len(bare)]) {
			return 0, len(bare) + 1, 0
		}
		if len(data) <= len(bare) && bytes.HasPrefix(bare, data) {
			return 0, 0, 1
		}
	}
	for {
		i := bytes.Index(data[from:], m)
		if i < 0 {
			break
		}
		i += from
		if i+len(m) >= len(data) {
			// The flag is not here yet: whatever precedes is body.
			if i > 0 {
				return i, 0, 0
			}
			return 0, 0, 1
		}
		if isFlag(data[i+len(m)]) {
			return i, len(m) + 1, 0
		}
		from = i + 1
	}
	// A prefix of the marker may sit at the end of data; it starts with
	// the marker's CR, so only the last len(m)-1 bytes need a look.
	tail := max(from, len(data)-(len(m)-1))
	for i := tail; i < len(data); i++ {
		if data[i] == '\r' && bytes.HasPrefix(m, data[i:]) {
			if i == 0 {
				return 0, 0, 1
			}
			return i, 0, 0
		}
	}
	if len(data) == 0 {
		return 0, 0, 1
	}
	return len(data), 0, 0
}
