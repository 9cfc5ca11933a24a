package digest

import (
	"errors"
	"fmt"
	"strings"
)

// maxParams bounds the parameters accepted in one header value. A
// real Authorization value has about ten; the bound keeps a hostile header
// from building a large map.
const maxParams = 32

// Errors of Parse. They never carry the header value: an Authorization
// header holds a response hash, and a Basic one would hold the password
// itself.
var (
	// ErrScheme is a value whose scheme is not Digest.
	ErrScheme    = errors.New("digest: authorization scheme is not Digest")
	errNoParams  = errors.New("digest: Digest value has no parameters")
	errSyntax    = errors.New("digest: malformed Digest value")
	errDuplicate = errors.New("digest: duplicate Digest parameter")
	errTooMany   = errors.New("digest: too many Digest parameters")
)

// Parse parses a Digest credentials or challenge value such as
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
// about which value was meant. It is strict, for a relay reading what
// anyone may send.
func Parse(value string) (map[string]string, error) {
	s := strings.TrimLeft(value, " \t")
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		if strings.EqualFold(s, "Digest") {
			return nil, errNoParams
		}
		return nil, ErrScheme
	}
	if !strings.EqualFold(s[:end], "Digest") {
		return nil, ErrScheme
	}

	sc := scanner{s: s, pos: end}
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
			return nil, errDuplicate
		}
		if len(params) == maxParams {
			return nil, errTooMany
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
		return nil, errNoParams
	}
	return params, nil
}

// scanner walks a header value byte by byte.
type scanner struct {
	s   string
	pos int
}

func (sc *scanner) done() bool { return sc.pos >= len(sc.s) }

func (sc *scanner) peek() byte {
	if sc.done() {
		return 0
	}
	return sc.s[sc.pos]
}

func (sc *scanner) consume(c byte) bool {
	if !sc.done() && sc.s[sc.pos] == c {
		sc.pos++
		return true
	}
	return false
}

func (sc *scanner) skip(set string) {
	for !sc.done() && strings.IndexByte(set, sc.s[sc.pos]) >= 0 {
		sc.pos++
	}
}

// token reads an RFC 7230 token (the parameter names).
func (sc *scanner) token() string {
	start := sc.pos
	for !sc.done() && isTokenChar(sc.s[sc.pos]) {
		sc.pos++
	}
	return sc.s[start:sc.pos]
}

// unquoted reads a bare value up to whitespace, comma or a quote.
func (sc *scanner) unquoted() string {
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
func (sc *scanner) quoted() (string, error) {
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
			if IsControl(c) {
				return "", sc.errorf("control character in quoted string")
			}
		case IsControl(c):
			return "", sc.errorf("control character in quoted string")
		}
		b.WriteByte(c)
	}
	return "", sc.errorf("unterminated quoted string")
}

// errorf reports a syntax error with its byte offset but not the input.
func (sc *scanner) errorf(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, sc.pos)
}

// IsControl reports CTLs other than horizontal tab, which no Digest
// value may hold.
func IsControl(c byte) bool {
	return (c < ' ' && c != '\t') || c == 0x7f
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Param is one parameter of a formatted Digest header value. Quoted is
// explicit because RFC 4976 §9.1 wants the same qop quoted in
// WWW-Authenticate but unquoted in Authentication-Info.
type Param struct {
	Key    string
	Value  string
	Quoted bool
}

// Format joins params as `k=v, k="v"`, escaping quoted values. The caller
// adds a "Digest " prefix where the header needs one (WWW-Authenticate
// and Authorization have it, Authentication-Info does not).
func Format(params []Param) string {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		if p.Quoted {
			b.WriteString(Quote(p.Value))
		} else {
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// Quote returns s as a quoted-string, escaping '"' and '\'.
func Quote(s string) string {
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
