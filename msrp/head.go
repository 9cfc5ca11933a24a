package msrp

import (
	"bytes"
	"strconv"
	"strings"
)

// The header block of a chunk is its start line and header lines. It ends
// either with a blank line (a body follows) or with the end-line itself (a
// bodiless request, RFC 4975 section 7.1). Both the streaming Reader and
// Parse find that end with headScan and turn the block into a Message with
// parseHead, so the two cannot disagree.

const endLineDashes = "-------"

type headResult int

const (
	headMore     headResult = iota // need more input
	headBody                       // blank line found: a body follows
	headBodiless                   // end-line found right after the headers
)

// headScan finds the end of a header block incrementally: each call looks
// only at bytes it has not examined yet, so feeding input a byte at a time
// costs linear work.
type headScan struct {
	pos    int // start of the first line not yet complete
	seen   int // bytes of data[pos:] already searched for LF
	tidLen int // length of the transaction id, once the start line is in
	lines  int // header lines seen, to size Message.Headers
	// Results, valid when scan returns headBody or headBodiless.
	blockEnd int  // end of the header block (after its last line's LF)
	next     int  // first byte after the blank line or the end-line's flag
	flag     byte // continuation flag of a bodiless request
}

// scan examines data, which starts at the start line. The whole header
// block, including its blank line or bodiless end-line, must lie within the
// first limit bytes: scan never looks further, so the Reader, which sees the
// stream in pieces, and Parse, which sees it whole, decide alike. An error
// is fatal (the framing is lost).
func (s *headScan) scan(data []byte, limit int) (headResult, error) {
	full := len(data) >= limit
	if full {
		data = data[:limit]
	}
	for {
		line := data[s.pos:]
		if s.pos == 0 {
			// Refuse garbage (a TLS hello on a TCP port, say) at once
			// rather than after a header block's worth of it.
			for i := 0; i < len(line) && i < 5; i++ {
				if line[i] != "MSRP "[i] && line[i] != "msrp "[i] {
					return headMore, fatalf("", "bad start line beginning %q", line[:i+1])
				}
			}
		} else {
			if len(line) == 0 {
				break
			}
			// A blank line ends the headers; a body follows.
			if line[0] == '\n' || line[0] == '\r' && len(line) > 1 && line[1] == '\n' {
				s.blockEnd = s.pos
				s.next = s.pos + 1
				if line[0] == '\r' {
					s.next = s.pos + 2
				}
				return headBody, nil
			}
			if line[0] == '\r' && len(line) == 1 {
				break
			}
			// An end-line right after the headers: a bodiless request.
			if line[0] == '-' {
				switch s.endLine(data, line) {
				case headMore:
					if full {
						return headMore, s.tooLong(data, limit)
					}
					return headMore, nil
				case headBodiless:
					return headBodiless, nil
				}
			}
		}
		i := bytes.IndexByte(line[s.seen:], '\n')
		if i < 0 {
			s.seen = len(line)
			break
		}
		nl := s.seen + i
		s.seen = 0
		if s.pos == 0 {
			n, err := startLineTID(line[:nl])
			if err != nil {
				return headMore, err
			}
			s.tidLen = n
		} else {
			s.lines++
		}
		s.pos += nl + 1
	}
	if full {
		return headMore, s.tooLong(data, limit)
	}
	return headMore, nil
}

// endLine checks whether line, which starts with '-', is the end-line of a
// bodiless request: headBodiless if it is, headMore if it may be once more
// bytes arrive, headBody (meaning "no") otherwise.
func (s *headScan) endLine(data, line []byte) headResult {
	tid := data[5 : 5+s.tidLen]
	n := len(endLineDashes) + len(tid)
	for i := 0; i < n && i < len(line); i++ {
		want := byte('-')
		if i >= len(endLineDashes) {
			want = tid[i-len(endLineDashes)]
		}
		if line[i] != want {
			return headBody
		}
	}
	if len(line) <= n {
		return headMore
	}
	if !isFlag(line[n]) {
		return headBody
	}
	s.blockEnd = s.pos
	s.next = s.pos + n + 1
	s.flag = line[n]
	return headBodiless
}

func (s *headScan) tooLong(data []byte, limit int) error {
	tid := ""
	if s.tidLen > 0 {
		tid = string(data[5 : 5+s.tidLen])
	}
	return &ParseError{Code: 413, TransactionID: tid, Reason: "header block exceeds " + strconv.Itoa(limit) + " bytes", Fatal: true}
}

func isFlag(c byte) bool { return c == FlagComplete || c == FlagMore || c == FlagAbort }

// maxTIDLen is lenient: RFC 4975 allows 4 to 32 characters, we accept up to
// 64 so that sloppy peers still get answers.
const maxTIDLen = 64

// startLineTID checks the "MSRP " prefix and returns the length of the
// transaction id that follows it. The rest of the start line is checked by
// parseHead.
func startLineTID(line []byte) (int, error) {
	if len(line) < 6 || !strings.EqualFold(string(line[:5]), "MSRP ") {
		return 0, fatalf("", "bad start line %q", truncate(line))
	}
	tid := line[5:]
	n := bytes.IndexByte(tid, ' ')
	if n <= 0 || n > maxTIDLen || !isAlphaNum(tid[0]) {
		return 0, fatalf("", "bad transaction id in start line %q", truncate(line))
	}
	for _, c := range tid[:n] {
		if !isIdentChar(c) {
			return 0, fatalf("", "bad transaction id in start line %q", truncate(line))
		}
	}
	return n, nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// parseHead turns a header block (start line and header lines, each ending
// in LF or CRLF) into a Message; bodiless tells whether the block ended with
// the end-line; lines is the number of header lines, a capacity hint. The
// returned error is a ParseError; when it is not fatal the
// Message is returned too, so the caller can answer it.
func parseHead(block string, lines int, bodiless bool) (*Message, error) {
	nl := strings.IndexByte(block, '\n')
	start := strings.TrimSuffix(block[:nl], "\r")
	rest := start[5:]
	sp := strings.IndexByte(rest, ' ')
	m := &Message{TransactionID: rest[:sp]}
	word := rest[sp+1:]
	if len(word) >= 3 && allOf(word[:3], isDigit) && (len(word) == 3 || word[3] == ' ') {
		m.StatusCode = int(word[0]-'0')*100 + int(word[1]-'0')*10 + int(word[2]-'0')
		if m.StatusCode < 100 {
			return nil, fatalf(m.TransactionID, "status code %q out of range", word[:3])
		}
		if len(word) > 3 {
			m.Comment = word[4:]
			if !isText(m.Comment) {
				return nil, fatalf(m.TransactionID, "control character in start line %q", start)
			}
		}
	} else {
		if word == "" || !allOf(word, isAlpha) {
			return nil, fatalf(m.TransactionID, "bad method in start line %q", start)
		}
		m.Method = word
	}

	m.Headers = make([]Header, 0, lines)
	rest = block[nl+1:]
	var perr *ParseError
	var toPaths, fromPaths int
	for rest != "" {
		nl := strings.IndexByte(rest, '\n')
		line := strings.TrimSuffix(rest[:nl], "\r")
		rest = rest[nl+1:]
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isHeaderName(name) {
			if perr == nil {
				perr = badRequestf(m.TransactionID, "bad header line %q", truncate([]byte(line)))
			}
			continue
		}
		value = trimSpace(value)
		if !isText(value) {
			// The Writer could not reproduce it, and no MSRP header
			// needs control characters (utf8text, RFC 4975 section 9).
			if perr == nil {
				perr = badRequestf(m.TransactionID, "control character in %s header", name)
			}
			continue
		}
		m.Headers = append(m.Headers, Header{Name: name, Value: value})
		switch {
		case isHeader(name, HeaderToPath):
			toPaths++
		case isHeader(name, HeaderFromPath):
			fromPaths++
		case isHeader(name, HeaderByteRange):
			if _, err := ParseByteRange(value); err != nil && perr == nil {
				perr = badRequestf(m.TransactionID, "%s", strings.TrimPrefix(err.Error(), "msrp: "))
			}
		case bodiless && isHeader(name, HeaderContentType):
			// RFC 4975 section 7.1: a bodiless request has no
			// Content-Type; one with it lost its body.
			if perr == nil {
				perr = badRequestf(m.TransactionID, "bodiless request with a Content-Type header")
			}
		}
	}
	if perr == nil && (toPaths != 1 || fromPaths != 1) {
		perr = badRequestf(m.TransactionID, "need exactly one To-Path and one From-Path, have %d and %d", toPaths, fromPaths)
	}
	if perr != nil {
		return m, perr
	}
	return m, nil
}
