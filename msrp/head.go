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
// only at lines it has not examined yet, so feeding input a byte at a time
// costs linear work.
type headScan struct {
	pos    int // start of the first line not yet examined
	tidLen int // length of the transaction id, once the start line is in
	// Results, valid when scan returns headBody or headBodiless.
	blockEnd int  // end of the header block (after its last line's LF)
	next     int  // first byte after the blank line or the end-line's flag
	flag     byte // continuation flag of a bodiless request
}

// scan examines data, which starts at the start line. limit bounds the
// header block; err is fatal (the framing is lost).
func (s *headScan) scan(data []byte, limit int) (headResult, error) {
	for {
		if s.pos == 0 {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				return s.more(data, limit)
			}
			n, err := startLineTID(data[:nl])
			if err != nil {
				return headMore, err
			}
			s.tidLen = n
			s.pos = nl + 1
			continue
		}
		line := data[s.pos:]
		if len(line) == 0 {
			return s.more(data, limit)
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
			return s.more(data, limit)
		}
		// An end-line right after the headers: a bodiless request.
		if line[0] == '-' {
			tid := data[5 : 5+s.tidLen]
			n := len(endLineDashes) + len(tid)
			if len(line) <= n && bytes.HasPrefix([]byte(endLineDashes+string(tid)), line) {
				return s.more(data, limit)
			}
			if len(line) > n && string(line[:7]) == endLineDashes && bytes.Equal(line[7:n], tid) && isFlag(line[n]) {
				s.blockEnd = s.pos
				s.next = s.pos + n + 1
				s.flag = line[n]
				return headBodiless, nil
			}
		}
		nl := bytes.IndexByte(line, '\n')
		if nl < 0 {
			return s.more(data, limit)
		}
		s.pos += nl + 1
		if s.pos > limit {
			return headMore, s.tooLong(data, limit)
		}
	}
}

func (s *headScan) more(data []byte, limit int) (headResult, error) {
	if len(data) >= limit {
		return headMore, s.tooLong(data, limit)
	}
	return headMore, nil
}

func (s *headScan) tooLong(data []byte, limit int) error {
	tid := ""
	if s.tidLen > 0 {
		tid = string(data[5 : 5+s.tidLen])
	}
	return &ParseError{Code: 413, TransactionID: tid, Reason: "header block exceeds " + strconv.Itoa(limit) + " bytes", Fatal: true}
}

func isFlag(c byte) bool { return c == FlagComplete || c == FlagMore || c == FlagAbort }

func isIdentChar(c byte) bool {
	return isAlphaNum(c) || c == '.' || c == '-' || c == '+' || c == '%' || c == '='
}

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
// in LF or CRLF) into a Message. The returned error is a ParseError; when
// it is not fatal the Message is returned too, so the caller can answer it.
func parseHead(block string) (*Message, error) {
	nl := strings.IndexByte(block, '\n')
	start := strings.TrimSuffix(block[:nl], "\r")
	rest := start[5:]
	sp := strings.IndexByte(rest, ' ')
	m := &Message{TransactionID: rest[:sp]}
	word := rest[sp+1:]
	if len(word) >= 3 && allOf(word[:3], isDigit) && (len(word) == 3 || word[3] == ' ') {
		m.StatusCode, _ = strconv.Atoi(word[:3])
		if m.StatusCode < 100 {
			return nil, fatalf(m.TransactionID, "status code %q out of range", word[:3])
		}
		if len(word) > 3 {
			m.Comment = word[4:]
		}
	} else {
		if word == "" || !allOf(word, isAlpha) {
			return nil, fatalf(m.TransactionID, "bad method in start line %q", start)
		}
		m.Method = word
	}

	lines := block[nl+1:]
	m.Headers = make([]Header, 0, strings.Count(lines, "\n"))
	var perr *ParseError
	var toPaths, fromPaths int
	for lines != "" {
		nl := strings.IndexByte(lines, '\n')
		line := strings.TrimSuffix(lines[:nl], "\r")
		lines = lines[nl+1:]
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || !allOf(name, isTokenChar) {
			if perr == nil {
				perr = badRequestf(m.TransactionID, "bad header line %q", truncate([]byte(line)))
			}
			continue
		}
		value = strings.Trim(value, " \t")
		m.Headers = append(m.Headers, Header{Name: name, Value: value})
		switch {
		case strings.EqualFold(name, HeaderToPath):
			toPaths++
		case strings.EqualFold(name, HeaderFromPath):
			fromPaths++
		case strings.EqualFold(name, HeaderByteRange):
			if _, err := ParseByteRange(value); err != nil && perr == nil {
				perr = badRequestf(m.TransactionID, "%s", strings.TrimPrefix(err.Error(), "msrp: "))
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

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isTokenChar follows the token rule of RFC 4975's grammar (from SIP).
func isTokenChar(c byte) bool {
	return isAlphaNum(c) || strings.IndexByte("-.!%*_+`'~", c) >= 0
}
