package msrp

import "strings"

// Character classes of the RFC 4975 grammar (section 9). The ones on the
// parsing hot path are 256-entry tables: a lookup per byte instead of a
// chain of comparisons.

var (
	tokenChars = byteSet(func(c byte) bool {
		// token of SIP, which RFC 4975 borrows for header names.
		return isAlphaNum(c) || c == '-' || c == '.' || c == '!' || c == '%' || c == '*' ||
			c == '_' || c == '+' || c == '`' || c == '\'' || c == '~'
	})
	// textChars is utf8text: HTAB, printable ASCII, and bytes above 0x7F
	// (not checked to be well-formed UTF-8).
	textChars = byteSet(func(c byte) bool { return c == '\t' || 0x20 <= c && c != 0x7f })
)

func byteSet(in func(byte) bool) (set [256]bool) {
	for i := range set {
		set[i] = in(byte(i))
	}
	return set
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlphaNum(c byte) bool { return isAlpha(c) || isDigit(c) }

func isTokenChar(c byte) bool { return tokenChars[c] }

func isIdentChar(c byte) bool {
	return isAlphaNum(c) || c == '.' || c == '-' || c == '+' || c == '%' || c == '='
}

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// isHeaderName follows hname of RFC 4975 section 9: a letter, then token
// characters. The leading letter also keeps a header line from ever
// looking like an end-line.
func isHeaderName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

// isText reports whether s holds no control characters other than HTAB.
func isText(s string) bool {
	for i := 0; i < len(s); i++ {
		if !textChars[s[i]] {
			return false
		}
	}
	return true
}

// trimSpace cuts the spaces and tabs around a header value; strings.Trim
// would build a character set on every call.
func trimSpace(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isHeader compares a header name with a known one. Checking the length
// first spares strings.EqualFold most mismatches.
func isHeader(name, known string) bool {
	return len(name) == len(known) && strings.EqualFold(name, known)
}
