package relay

import (
	"errors"
	"fmt"
	"strings"
)

// maxDigestParams bounds the parameters accepted in one header value. A
// real Authorization value has about ten; the bound keeps a hostile header
// from building a large map.
const maxDigestParams = 32

// Sentinel errors of the Digest parser. They never carry the header value:
// an Authorization header holds a response hash, and a Basic one would hold
// the password itself.
var (
	errDigestScheme    = errors.New("relay: authorization scheme is not Digest")
	errDigestNoParams  = errors.New("relay: Digest value has no parameters")
	errDigestSyntax    = errors.New("relay: malformed Digest value")
	errDigestDuplicate = errors.New("relay: duplicate Digest parameter")
	errDigestTooMany   = errors.New("relay: too many Digest parameters")
)

// parseDigest parses a Digest credentials or challenge value such as
//
//	Digest username="alice", realm="example.com", nc=00000001, qop=auth
//
// The scheme is matched case-insensitively, keys are lower-cased, values may
// be quoted strings (with backslash escapes, commas allowed inside) or
// unquoted. Unquoted values are taken loosely (any visible character except
// comma and double quote) because clients send URIs and base64 unquoted.
// Control characters are rejected everywhere, so a parsed value can be echoed
// into a header without risk of header injection. Duplicate keys are an
// error rather than "last wins", so no two parts of the relay can disagree
// about which value was meant.
func parseDigest(value string) (map[string]string, error) {
	s := strings.TrimLeft(value, " \t")
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		if strings.EqualFold(s, "Digest") {
			return nil, errDigestNoParams
		}
		return nil, errDigestScheme
	}
	if !strings.EqualFold(s[:end], "Digest") {
		return nil, errDigestScheme
	}

	sc := digestScanner{s: s, pos: end}
	params := make(map[string]string)
	for {
		// Empty list elements (",,") are allowed by the HTTP list rule.
		sc.skip(" \t,")
		if sc.done() {
			break
		}
		key := sc.token()
		if key == "" {
			return nil, sc.errorf("expected parameter name")
		}
		sc.skip(" \t")
		if !sc.consume('=') {
			return nil, sc.errorf("expected '=' after parameter name")
		}
		sc.skip(" \t")
		var val string
		if sc.peek() == '"' {
			var err error
			if val, err = sc.quoted(); err != nil {
				return nil, err
			}
		} else if val = sc.unquoted(); val == "" {
			return nil, sc.errorf("expected parameter value")
		}
		key = strings.ToLower(key)
		if _, dup := params[key]; dup {
			return nil, errDigestDuplicate
		}
		if len(params) == maxDigestParams {
			return nil, errDigestTooMany
		}
		params[key] = val
		sc.skip(" \t")
		if sc.done() {
			break
		}
		if !sc.consume(',') {
			return nil, sc.errorf("expected ',' between parameters")
		}
	}
	if len(params) == 0 {
		return nil, errDigestNoParams
	}
	return params, nil
}

// digestScanner walks a header value byte by byte.
type digestScanner struct {
	s   string
	pos int
}

func (sc *digestScanner) done() bool { return sc.pos >= len(sc.s) }

func (sc *digestScanner) peek() byte {
	if sc.done() {
		return 0
	}
	return sc.s[sc.pos]
}

func (sc *digestScanner) consume(c byte) bool {
	if !sc.done() && sc.s[sc.pos] == c {
		sc.pos++
		return true
	}
	return false
}

func (sc *digestScanner) skip(set string) {
	for !sc.done() && strings.IndexByte(set, sc.s[sc.pos]) >= 0 {
		sc.pos++
	}
}

// token reads an RFC 7230 token (the parameter names).
func (sc *digestScanner) token() string {
	start := sc.pos
	for !sc.done() && isTokenChar(sc.s[sc.pos]) {
		sc.pos++
	}
	return sc.s[start:sc.pos]
}

// unquoted reads a bare value up to whitespace, comma or a quote.
func (sc *digestScanner) unquoted() string {
	start := sc.pos
	for !sc.done() {
		c := sc.s[sc.pos]
		if c <= ' ' || c == 0x7f || c == ',' || c == '"' {
			break
		}
		sc.pos++
	}
	return sc.s[start:sc.pos]
}

// quoted reads a quoted-string starting at the opening quote and returns
// its unescaped content.
func (sc *digestScanner) quoted() (string, error) {
	sc.pos++ // opening quote
	var b strings.Builder
	for !sc.done() {
		c := sc.s[sc.pos]
		sc.pos++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if sc.done() {
				return "", sc.errorf("unterminated escape")
			}
			c = sc.s[sc.pos]
			sc.pos++
			if isControl(c) {
				return "", sc.errorf("control character in quoted string")
			}
		case isControl(c):
			return "", sc.errorf("control character in quoted string")
		}
		b.WriteByte(c)
	}
	return "", sc.errorf("unterminated quoted string")
}

// errorf reports a syntax error with its byte offset but not the input.
func (sc *digestScanner) errorf(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errDigestSyntax, what, sc.pos)
}

// isControl reports CTLs other than horizontal tab.
func isControl(c byte) bool {
	return (c < ' ' && c != '\t') || c == 0x7f
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// digestParam is one parameter of a formatted Digest header value. Quoted
// is explicit because RFC 4976 §9.1 wants the same qop quoted in
// WWW-Authenticate but unquoted in Authentication-Info.
type digestParam struct {
	key    string
	value  string
	quoted bool
}

// formatDigestParams joins params as `k=v, k="v"`, escaping quoted values.
// The caller adds a "Digest " prefix where the header needs one
// (WWW-Authenticate has it, Authentication-Info does not).
func formatDigestParams(params []digestParam) string {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		if p.quoted {
			b.WriteString(quoteDigest(p.value))
		} else {
			b.WriteString(p.value)
		}
	}
	return b.String()
}

// quoteDigest returns s as a quoted-string, escaping '"' and '\'.
func quoteDigest(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
