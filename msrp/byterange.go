package msrp

import (
	"fmt"
	"strconv"
	"strings"
)

// Unknown marks a Byte-Range end or total given as "*".
const Unknown = -1

// ByteRange is the value of a Byte-Range header (RFC 4975 section 7.1.1):
// the 1-based positions of a chunk's first and last byte within the
// message, and the message's total size. End and Total are Unknown for "*".
type ByteRange struct {
	Start int64
	End   int64
	Total int64
}

// maxRange bounds every number so that arithmetic on them cannot overflow.
const maxRange = 1 << 53

// ParseByteRange parses "start-end/total", where end and total may be "*".
func ParseByteRange(s string) (ByteRange, error) {
	var br ByteRange
	se, total, ok := strings.Cut(strings.TrimSpace(s), "/")
	start, end, ok2 := strings.Cut(se, "-")
	if !ok || !ok2 {
		return br, fmt.Errorf("msrp: bad Byte-Range %q", s)
	}
	var err error
	if br.Start, err = rangeNumber(start, false); err != nil || br.Start < 1 {
		return br, fmt.Errorf("msrp: bad Byte-Range %q: bad start", s)
	}
	if br.End, err = rangeNumber(end, true); err != nil {
		return br, fmt.Errorf("msrp: bad Byte-Range %q: bad end", s)
	}
	if br.Total, err = rangeNumber(total, true); err != nil {
		return br, fmt.Errorf("msrp: bad Byte-Range %q: bad total", s)
	}
	if br.End != Unknown && br.End < br.Start-1 {
		return br, fmt.Errorf("msrp: bad Byte-Range %q: end before start", s)
	}
	if br.Total != Unknown && br.End != Unknown && br.End > br.Total {
		return br, fmt.Errorf("msrp: bad Byte-Range %q: end beyond total", s)
	}
	// Start may sit one past the total only for the empty range "1-0/0".
	if br.Total != Unknown && br.Start > br.Total+1 {
		return br, fmt.Errorf("msrp: bad Byte-Range %q: start beyond total", s)
	}
	return br, nil
}

func rangeNumber(s string, starOK bool) (int64, error) {
	if s == "*" && starOK {
		return Unknown, nil
	}
	if s == "" || len(s) > 16 || !allOf(s, isDigit) {
		return 0, fmt.Errorf("bad number")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxRange {
		return 0, fmt.Errorf("bad number")
	}
	return n, nil
}

// String formats br as a header value.
func (br ByteRange) String() string {
	b := make([]byte, 0, 32)
	b = strconv.AppendInt(b, br.Start, 10)
	b = append(b, '-')
	b = appendRangeNumber(b, br.End)
	b = append(b, '/')
	b = appendRangeNumber(b, br.Total)
	return string(b)
}

func appendRangeNumber(b []byte, n int64) []byte {
	if n == Unknown {
		return append(b, '*')
	}
	return strconv.AppendInt(b, n, 10)
}

// Status is the value of a Status header (RFC 4975 section 9):
// namespace, code and optional comment, as in "000 200 OK".
type Status struct {
	Namespace int
	Code      int
	Comment   string
}

// ParseStatus parses a Status header value.
func ParseStatus(s string) (Status, error) {
	var st Status
	f := strings.SplitN(strings.TrimSpace(s), " ", 3)
	if len(f) < 2 || len(f[0]) != 3 || len(f[1]) != 3 || !allOf(f[0], isDigit) || !allOf(f[1], isDigit) {
		return st, fmt.Errorf("msrp: bad Status %q", s)
	}
	st.Namespace, _ = strconv.Atoi(f[0])
	st.Code, _ = strconv.Atoi(f[1])
	if st.Code < 100 {
		return st, fmt.Errorf("msrp: bad Status %q: code out of range", s)
	}
	if len(f) == 3 {
		st.Comment = f[2]
	}
	return st, nil
}

// String formats st as a header value.
func (st Status) String() string {
	s := fmt.Sprintf("%03d %03d", st.Namespace, st.Code)
	if st.Comment != "" {
		s += " " + st.Comment
	}
	return s
}
