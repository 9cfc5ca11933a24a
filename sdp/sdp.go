// Package sdp reads and writes the session descriptions (RFC 8866) that
// set up MSRP sessions with SIP: an m=message section with the
// attributes of RFC 4975 section 8 (path, accept-types,
// accept-wrapped-types, max-size), RFC 6135 (setup, connection) and RFC
// 5547 (file-selector and friends). It keeps every line it does not
// interpret, so an answer can reject media it does not know (port 0).
//
// Parse is strict about the structure (v= first, type=value lines, a
// well-formed m= line) and lenient about what it does not use; it never
// panics on any input (it is fuzzed).
package sdp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxSize bounds the description Parse accepts.
const MaxSize = 64 << 10

// Errors Parse and the MSRP helpers return; callers branch on them to
// pick a SIP status (400 or 488).
var (
	// ErrSyntax means the description is not valid SDP.
	ErrSyntax = errors.New("sdp: syntax error")
	// ErrNoMSRP means no usable m=message section (TCP/MSRP or
	// TCP/TLS/MSRP, non-zero port, with a path) is present.
	ErrNoMSRP = errors.New("sdp: no acceptable MSRP media")
)

// Session is a session description: the session-level lines, then the
// media sections in order.
type Session struct {
	// Origin is the o= value ("- 123 1 IN IP4 192.0.2.1").
	Origin string
	// Name is the s= value ("-" when there is nothing to say).
	Name string
	// Conn is the session-level c= value ("IN IP4 192.0.2.1"), or "".
	Conn string
	// Other holds further session-level lines (t=, b=, a=, ...) verbatim,
	// without their CRLF, in order.
	Other []string
	// Media are the m= sections.
	Media []*Media
}

// Media is one m= section.
type Media struct {
	// Type is the media type: "message", "audio", ...
	Type string
	// Port is the transport port; 0 rejects or disables the stream.
	Port int
	// Proto is the transport protocol: "TCP/MSRP", "TCP/TLS/MSRP", ...
	Proto string
	// Formats are the fmt fields ("*" for MSRP).
	Formats []string
	// Conn is the media-level c= value, or "".
	Conn string
	// Attrs are the a= lines in order.
	Attrs []Attr
	// Other holds further lines of the section (i=, b=, k=) verbatim.
	Other []string
}

// Attr is one a= line: "a=name:value", or "a=name" for a flag (Value "").
type Attr struct {
	Name, Value string
}

// Attr returns the value of the first attribute called name.
func (m *Media) Attr(name string) (string, bool) {
	for _, a := range m.Attrs {
		if strings.EqualFold(a.Name, name) {
			return a.Value, true
		}
	}
	return "", false
}

// Parse reads a session description. Lines may end in CRLF or LF.
func Parse(b []byte) (*Session, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrSyntax, len(b), MaxSize)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	s := &Session{}
	var cur *Media
	for i, line := range lines {
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return nil, fmt.Errorf("%w: line %d %q is not type=value", ErrSyntax, i+1, clip(line))
		}
		if strings.ContainsAny(line, "\r\x00") {
			return nil, fmt.Errorf("%w: line %d has a control character", ErrSyntax, i+1)
		}
		typ, val := line[0], line[2:]
		if i == 0 {
			if line != "v=0" {
				return nil, fmt.Errorf("%w: first line %q, want v=0", ErrSyntax, clip(line))
			}
			continue
		}
		switch {
		case typ == 'v':
			return nil, fmt.Errorf("%w: line %d: second v= line", ErrSyntax, i+1)
		case typ == 'm':
			m, err := parseMediaLine(val)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrSyntax, i+1, err)
			}
			s.Media = append(s.Media, m)
			cur = m
		case cur == nil && typ == 'o':
			s.Origin = val
		case cur == nil && typ == 's':
			s.Name = val
		case cur == nil && typ == 'c':
			s.Conn = val
		case cur == nil:
			s.Other = append(s.Other, line)
		case typ == 'c':
			cur.Conn = val
		case typ == 'a':
			name, value, _ := strings.Cut(val, ":")
			if name == "" {
				return nil, fmt.Errorf("%w: line %d: empty attribute name", ErrSyntax, i+1)
			}
			cur.Attrs = append(cur.Attrs, Attr{Name: name, Value: value})
		default:
			cur.Other = append(cur.Other, line)
		}
	}
	if len(lines) == 0 || lines[0] != "v=0" {
		return nil, fmt.Errorf("%w: empty description", ErrSyntax)
	}
	return s, nil
}

func parseMediaLine(v string) (*Media, error) {
	f := strings.Fields(v)
	if len(f) < 4 {
		return nil, fmt.Errorf("m=%q: want media port proto fmt...", clip(v))
	}
	port, _, _ := strings.Cut(f[1], "/") // port/count
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("m=%q: bad port %q", clip(v), f[1])
	}
	return &Media{Type: f[0], Port: p, Proto: f[2], Formats: f[3:]}, nil
}

// Marshal writes the description with CRLF line ends.
func (s *Session) Marshal() []byte {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\r\n")
	}
	line("v=0")
	line("o=%s", s.Origin)
	line("s=%s", s.Name)
	if s.Conn != "" {
		line("c=%s", s.Conn)
	}
	hasT := false
	for _, o := range s.Other {
		hasT = hasT || strings.HasPrefix(o, "t=")
		line("%s", o)
	}
	if !hasT {
		line("t=0 0")
	}
	for _, m := range s.Media {
		line("m=%s %d %s %s", m.Type, m.Port, m.Proto, strings.Join(m.Formats, " "))
		for _, o := range m.Other {
			line("%s", o)
		}
		if m.Conn != "" {
			line("c=%s", m.Conn)
		}
		for _, a := range m.Attrs {
			if a.Value == "" {
				line("a=%s", a.Name)
			} else {
				line("a=%s:%s", a.Name, a.Value)
			}
		}
	}
	return []byte(b.String())
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
