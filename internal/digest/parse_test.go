package digest

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  map[string]string
	}{
		{
			name:  "quoted values",
			value: `Digest username="alice", realm="example.com", nonce="abc"`,
			want:  map[string]string{"username": "alice", "realm": "example.com", "nonce": "abc"},
		},
		{
			name:  "scheme lower case",
			value: `digest realm="r"`,
			want:  map[string]string{"realm": "r"},
		},
		{
			name:  "scheme upper case",
			value: `DIGEST realm="r"`,
			want:  map[string]string{"realm": "r"},
		},
		{
			name:  "keys lower-cased",
			value: `Digest UserName="alice", QOP=auth`,
			want:  map[string]string{"username": "alice", "qop": "auth"},
		},
		{
			name:  "unquoted values",
			value: `Digest qop=auth, nc=00000001, algorithm=MD5, uri=msrps://relay.example.com:2855;tcp`,
			want: map[string]string{"qop": "auth", "nc": "00000001", "algorithm": "MD5",
				"uri": "msrps://relay.example.com:2855;tcp"},
		},
		{
			name:  "comma inside quotes",
			value: `Digest realm="a, b", nonce="x"`,
			want:  map[string]string{"realm": "a, b", "nonce": "x"},
		},
		{
			name:  "backslash escapes",
			value: `Digest realm="say \"hi\" \\ \x"`,
			want:  map[string]string{"realm": `say "hi" \ x`},
		},
		{
			name:  "extra whitespace and tabs",
			value: "  Digest \t realm = \"r\" ,\tnonce\t=\tn  ,  qop=auth  ",
			want:  map[string]string{"realm": "r", "nonce": "n", "qop": "auth"},
		},
		{
			name:  "empty list elements",
			value: `Digest ,realm="r",, nonce="n",`,
			want:  map[string]string{"realm": "r", "nonce": "n"},
		},
		{
			name:  "empty quoted value",
			value: `Digest opaque=""`,
			want:  map[string]string{"opaque": ""},
		},
		{
			name:  "base64 with padding unquoted",
			value: `Digest nonce=abc==`,
			want:  map[string]string{"nonce": "abc=="},
		},
		{
			name:  "utf-8 in quoted string",
			value: `Digest username="jörg"`,
			want:  map[string]string{"username": "jörg"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.value)
			if err != nil {
				t.Fatalf("Parse(%q) error %v", tc.value, err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("Parse(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tooMany := "Digest "
	for i := 0; i <= maxParams; i++ {
		tooMany += "k" + strings.Repeat("x", i) + "=1, "
	}
	tests := []struct {
		name  string
		value string
		want  error
	}{
		{"empty", "", ErrScheme},
		{"basic scheme", "Basic YWxpY2U6c2VjcmV0", ErrScheme},
		{"scheme glued to param", `Digestrealm="r"`, ErrScheme},
		{"scheme only", "Digest", errNoParams},
		{"scheme and spaces", "Digest   ", errNoParams},
		{"only commas", "Digest , ,", errNoParams},
		{"name without value", "Digest realm", errSyntax},
		{"missing value", "Digest realm=", errSyntax},
		{"missing value before comma", "Digest realm=, nonce=x", errSyntax},
		{"unterminated quote", `Digest realm="r`, errSyntax},
		{"unterminated escape", `Digest realm="r\`, errSyntax},
		{"missing comma", `Digest realm="r" nonce="n"`, errSyntax},
		{"missing comma unquoted", `Digest a=1 b=2`, errSyntax},
		{"empty name", `Digest ="r"`, errSyntax},
		{"bad name char", `Digest re(alm="r"`, errSyntax},
		{"CR in quoted value", "Digest realm=\"a\r\nX-Evil: 1\"", errSyntax},
		{"escaped control char", "Digest realm=\"a\\\n\"", errSyntax},
		{"NUL in unquoted value", "Digest realm=a\x00b", errSyntax},
		{"duplicate key", `Digest realm="a", REALM="b"`, errDuplicate},
		{"too many params", tooMany, errTooMany},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.value)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) = %v, %v, want error %v", tc.value, got, err, tc.want)
			}
		})
	}
}

func TestParseErrorHidesInput(t *testing.T) {
	// A Basic header carries the password; errors must not echo it.
	for _, v := range []string{"Basic c2VjcmV0cGFzcw==", `Digest response="c2VjcmV0cGFzcw==`} {
		_, err := Parse(v)
		if err == nil || strings.Contains(err.Error(), "c2VjcmV0cGFzcw") {
			t.Errorf("Parse(%q) error = %v, want an error without the value", v, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name   string
		params []Param
		want   string
	}{
		{"empty", nil, ""},
		{
			name: "mixed quoting",
			params: []Param{
				{Key: "qop", Value: "auth"},
				{Key: "rspauth", Value: "abc", Quoted: true},
				{Key: "nc", Value: "00000001"},
			},
			want: `qop=auth, rspauth="abc", nc=00000001`,
		},
		{
			name:   "escapes",
			params: []Param{{Key: "realm", Value: `a"b\c`, Quoted: true}},
			want:   `realm="a\"b\\c"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Format(tc.params); got != tc.want {
				t.Errorf("Format(%v) = %q, want %q", tc.params, got, tc.want)
			}
		})
	}
}

// formatAllQuoted renders m as a Digest value with every value quoted, in
// key order, for round-trip checks.
func formatAllQuoted(m map[string]string) string {
	var params []Param
	for _, k := range slices.Sorted(maps.Keys(m)) {
		params = append(params, Param{Key: k, Value: m[k], Quoted: true})
	}
	return "Digest " + Format(params)
}

func TestRoundTrip(t *testing.T) {
	in := map[string]string{"realm": `a "quoted", \ realm`, "nonce": "n", "opaque": ""}
	out, err := Parse(formatAllQuoted(in))
	if err != nil || !maps.Equal(in, out) {
		t.Fatalf("round trip = %v, %v, want %v", out, err, in)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		`Digest username="alice", realm="example.com", nonce="abc", uri="msrps://relay.example.com:2855;tcp", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="0a4f113b", opaque="xyz"`,
		`digest realm="a, b", qop="auth"`,
		`Digest realm="say \"hi\" \\"`,
		"Digest ,, a=1,\tb = \"2\" ,",
		`Basic YWxpY2U6c2VjcmV0`,
		`Digest realm="unterminated`,
		"Digest",
		"",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		m, err := Parse(value)
		if err != nil {
			if m != nil {
				t.Fatalf("Parse(%q) returned both %v and error %v", value, m, err)
			}
			return
		}
		if len(m) == 0 || len(m) > maxParams {
			t.Fatalf("Parse(%q) = %d params", value, len(m))
		}
		for k, v := range m {
			if k != strings.ToLower(k) {
				t.Fatalf("Parse(%q): key %q not lower-cased", value, k)
			}
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("Parse(%q): value %q has a control character", value, v)
			}
		}
		// Whatever we parsed, we can format and read back unchanged.
		again, err := Parse(formatAllQuoted(m))
		if err != nil || !maps.Equal(m, again) {
			t.Fatalf("round trip of %q: %v, %v, want %v", value, again, err, m)
		}
	})
}
