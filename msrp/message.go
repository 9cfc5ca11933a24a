package msrp

import (
	"strconv"
	"strings"
)

// Methods defined by RFC 4975 and RFC 4976. Any other method token is kept
// as it arrived.
const (
	MethodSEND   = "SEND"
	MethodREPORT = "REPORT"
	MethodAUTH   = "AUTH"
)

// Continuation flags that close every chunk (RFC 4975 section 5.1).
const (
	FlagComplete = '$' // the last chunk of the message
	FlagMore     = '+' // more chunks of the message follow
	FlagAbort    = '#' // the sender aborted the message
)

// Header names with typed accessors.
const (
	HeaderToPath             = "To-Path"
	HeaderFromPath           = "From-Path"
	HeaderMessageID          = "Message-ID"
	HeaderByteRange          = "Byte-Range"
	HeaderSuccessReport      = "Success-Report"
	HeaderFailureReport      = "Failure-Report"
	HeaderStatus             = "Status"
	HeaderContentType        = "Content-Type"
	HeaderUsePath            = "Use-Path"
	HeaderExpires            = "Expires"
	HeaderMinExpires         = "Min-Expires"
	HeaderMaxExpires         = "Max-Expires"
	HeaderWWWAuthenticate    = "WWW-Authenticate"
	HeaderAuthorization      = "Authorization"
	HeaderAuthenticationInfo = "Authentication-Info"
)

// Header is one header line, name as it arrived and value without the
// surrounding whitespace.
type Header struct {
	Name  string
	Value string
}

// Message is one MSRP chunk: a request (Method set) or a response
// (StatusCode set), its headers in wire order, its body and the
// continuation flag of its end-line.
type Message struct {
	// TransactionID is the transact-id of the start and end lines.
	TransactionID string
	// Method is the request method ("SEND", "REPORT", "AUTH", or any other
	// token kept as-is); empty for responses.
	Method string
	// StatusCode and Comment are set for responses.
	StatusCode int
	Comment    string
	// Headers in wire order. Extension headers are kept verbatim.
	Headers []Header
	// Body of the chunk. A nil Body means a bodiless request (RFC 4975
	// section 7.1); an empty non-nil Body is an empty body with a
	// Content-Type. A parsed Body may alias the parser's input.
	Body []byte
	// Flag is the continuation flag: '$', '+' or '#'. Zero writes as '$'.
	Flag byte
}

// IsRequest reports whether m is a request rather than a response.
func (m *Message) IsRequest() bool { return m.Method != "" }

// Header returns the value of the first header called name (compared
// case-insensitively), or "" if there is none.
func (m *Message) Header(name string) string {
	v, _ := m.Lookup(name)
	return v
}

// Lookup returns the value of the first header called name and whether it
// exists.
func (m *Message) Lookup(name string) (string, bool) {
	for i := range m.Headers {
		if isHeader(m.Headers[i].Name, name) {
			return m.Headers[i].Value, true
		}
	}
	return "", false
}

// SetHeader replaces the value of the first header called name, or appends
// the header if it is absent.
func (m *Message) SetHeader(name, value string) {
	for i := range m.Headers {
		if isHeader(m.Headers[i].Name, name) {
			m.Headers[i].Value = value
			return
		}
	}
	m.Headers = append(m.Headers, Header{Name: name, Value: value})
}

// DelHeader removes every header called name.
func (m *Message) DelHeader(name string) {
	out := m.Headers[:0]
	for _, h := range m.Headers {
		if !isHeader(h.Name, name) {
			out = append(out, h)
		}
	}
	m.Headers = out
}

// Clone returns a copy of m whose header slice and body may be changed
// without touching m.
func (m *Message) Clone() *Message {
	c := *m
	c.Headers = append([]Header(nil), m.Headers...)
	if m.Body != nil {
		c.Body = append([]byte{}, m.Body...)
	}
	return &c
}

// ToPath parses the To-Path header.
func (m *Message) ToPath() (Path, error) { return ParsePath(m.Header(HeaderToPath)) }

// FromPath parses the From-Path header.
func (m *Message) FromPath() (Path, error) { return ParsePath(m.Header(HeaderFromPath)) }

// UsePath parses the Use-Path header of an AUTH response.
func (m *Message) UsePath() (Path, error) { return ParsePath(m.Header(HeaderUsePath)) }

// MessageID returns the Message-ID header.
func (m *Message) MessageID() string { return m.Header(HeaderMessageID) }

// ContentType returns the Content-Type header.
func (m *Message) ContentType() string { return m.Header(HeaderContentType) }

// ByteRange parses the Byte-Range header; ok is false when it is absent.
func (m *Message) ByteRange() (br ByteRange, ok bool, err error) {
	v, ok := m.Lookup(HeaderByteRange)
	if !ok {
		return ByteRange{}, false, nil
	}
	br, err = ParseByteRange(v)
	return br, true, err
}

// SuccessReport returns the Success-Report value, "no" when absent
// (RFC 4975 section 7.1.1).
func (m *Message) SuccessReport() string {
	if v, ok := m.Lookup(HeaderSuccessReport); ok {
		return strings.ToLower(v)
	}
	return "no"
}

// FailureReport returns the Failure-Report value, "yes" when absent
// (RFC 4975 section 7.1.1).
func (m *Message) FailureReport() string {
	if v, ok := m.Lookup(HeaderFailureReport); ok {
		return strings.ToLower(v)
	}
	return "yes"
}

// Status parses the Status header of a REPORT.
func (m *Message) Status() (Status, error) { return ParseStatus(m.Header(HeaderStatus)) }

// Expires parses the Expires header; ok is false when it is absent.
func (m *Message) Expires() (secs int, ok bool, err error) { return m.seconds(HeaderExpires) }

// MinExpires parses the Min-Expires header of a 423 response.
func (m *Message) MinExpires() (secs int, ok bool, err error) { return m.seconds(HeaderMinExpires) }

// MaxExpires parses the Max-Expires header of a 423 response.
func (m *Message) MaxExpires() (secs int, ok bool, err error) { return m.seconds(HeaderMaxExpires) }

// WWWAuthenticate returns the WWW-Authenticate header of a 401 response.
func (m *Message) WWWAuthenticate() string { return m.Header(HeaderWWWAuthenticate) }

// Authorization returns the Authorization header of an AUTH request.
func (m *Message) Authorization() string { return m.Header(HeaderAuthorization) }

// AuthenticationInfo returns the Authentication-Info header of a 200 to
// AUTH.
func (m *Message) AuthenticationInfo() string { return m.Header(HeaderAuthenticationInfo) }

func (m *Message) seconds(name string) (int, bool, error) {
	v, ok := m.Lookup(name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 31)
	if err != nil {
		return 0, true, badRequestf(m.TransactionID, "bad %s value %q", name, v)
	}
	return int(n), true, nil
}

// Response builds the response to request m with the given status code and
// comment (RFC 4975 section 7.2): the same transaction id, a To-Path of the
// request's first From-Path URI for SEND (hop-by-hop) or its whole
// From-Path for other methods, and a From-Path of the request's first
// To-Path URI.
func (m *Message) Response(code int, comment string) *Message {
	to := m.Header(HeaderFromPath)
	if m.Method == MethodSEND {
		to = firstField(to)
	}
	return &Message{
		TransactionID: m.TransactionID,
		StatusCode:    code,
		Comment:       comment,
		Headers: []Header{
			{Name: HeaderToPath, Value: to},
			{Name: HeaderFromPath, Value: firstField(m.Header(HeaderToPath))},
		},
		Flag: FlagComplete,
	}
}

// firstField returns the first space-separated field of s.
func firstField(s string) string {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// StatusText returns the usual comment for an MSRP status code.
func StatusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 408:
		return "Request Timeout"
	case 413:
		return "Message Too Large"
	case 415:
		return "Unsupported Media Type"
	case 423:
		return "Interval Out-of-Bounds"
	case 481:
		return "Session Does Not Exist"
	case 501:
		return "Not Implemented"
	case 506:
		return "Session Already Bound"
	}
	return ""
}
