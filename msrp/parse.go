package msrp

import "bytes"

// Parse parses b as exactly one whole chunk, as a WebSocket message carries
// it (RFC 7977 section 5.1). It shares the header code of the Reader. The
// end-line must close b (a trailing CRLF is optional); anything after it,
// such as a second chunk, is an error. The Body of the result aliases b.
//
// Errors are *ParseError. Since b's boundaries are known, a chunk with a
// readable start line yields a non-fatal error and the Message, so the
// caller can answer it; only a bad start line or header block is fatal.
func Parse(b []byte, maxHeader int) (*Message, error) {
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeader
	}
	var s headScan
	res, err := s.scan(b, maxHeader)
	if err != nil {
		return nil, err
	}
	if res == headMore {
		if s.tidLen == 0 {
			return nil, fatalf("", "no complete start line")
		}
		return nil, fatalf(string(b[5:5+s.tidLen]), "header block has no end")
	}
	m, perr := parseHead(string(b[:s.blockEnd]), s.lines, res == headBodiless)
	if m == nil {
		return nil, perr
	}
	rest := b[s.next:]
	if res == headBodiless {
		m.Flag = s.flag
	} else {
		body, flag, after, ok := splitBody(rest, m.TransactionID)
		if !ok {
			return m, badRequestf(m.TransactionID, "no end-line")
		}
		m.Body, m.Flag, rest = body, flag, after
	}
	if len(rest) > 0 && !bytes.Equal(rest, []byte("\r\n")) {
		return m, badRequestf(m.TransactionID, "%d bytes after the end-line (one chunk per message)", len(rest))
	}
	if perr != nil {
		return m, perr
	}
	return m, nil
}

// splitBody finds the first end-line for tid in data, which starts right
// after a header block's blank line. It follows the Reader's scanBody.
func splitBody(data []byte, tid string) (body []byte, flag byte, rest []byte, ok bool) {
	n := len(endLineDashes) + len(tid) // end-line up to its flag
	// Lenient, as in the Reader: an empty body without the CRLF.
	if isEndLine(data, tid) {
		return data[:0], data[n], data[n+1:], true
	}
	for from := 0; ; {
		i := bytes.Index(data[from:], crlfDashes)
		if i < 0 {
			return nil, 0, nil, false
		}
		i += from
		if isEndLine(data[i+2:], tid) {
			return data[:i:i], data[i+2+n], data[i+3+n:], true
		}
		from = i + 1
	}
}

var crlfDashes = []byte("\r\n" + endLineDashes)

// isEndLine reports whether data starts with "-------", tid and a flag.
func isEndLine(data []byte, tid string) bool {
	n := len(endLineDashes) + len(tid)
	return len(data) > n && string(data[:len(endLineDashes)]) == endLineDashes &&
		string(data[len(endLineDashes):n]) == tid && isFlag(data[n])
}
