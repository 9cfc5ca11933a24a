package msrp

import (
	"reflect"
	"testing"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want URI    // zero when an error is expected
		out  string // String() of the result; "" means in
	}{
		{"msrp://bob.example.com:8888/9di4eae923wzd;tcp", URI{Scheme: "msrp", Host: "bob.example.com", Port: 8888, SessionID: "9di4eae923wzd", Transport: "tcp"}, ""},
		{"MSRPS://Alice@Intra.Example.com;TCP", URI{Scheme: "msrps", User: "Alice", Host: "Intra.Example.com", Transport: "tcp"}, "msrps://Alice@Intra.Example.com;tcp"},
		{"msrps://df7jal23ls0d.invalid/98cjs;ws", URI{Scheme: "msrps", Host: "df7jal23ls0d.invalid", SessionID: "98cjs", Transport: "ws"}, ""},
		{"msrp://[2001:db8::1]:2855/s;tcp", URI{Scheme: "msrp", Host: "2001:db8::1", Port: 2855, SessionID: "s", Transport: "tcp"}, ""},
		{"msrp://[::1];tcp", URI{Scheme: "msrp", Host: "::1", Transport: "tcp"}, ""},
		{"msrp://192.0.2.1:7/a/b+c=;sctp;x=1;y", URI{Scheme: "msrp", Host: "192.0.2.1", Port: 7, SessionID: "a/b+c=", Transport: "sctp", Params: []string{"x=1", "y"}}, ""},
		{"msrp://h:08888/s;tcp", URI{Scheme: "msrp", Host: "h", Port: 8888, SessionID: "s", Transport: "tcp"}, "msrp://h:8888/s;tcp"},
		// Errors.
		{"sip:bob@example.com", URI{}, ""},
		{"msrp://bob.example.com:8888/s", URI{}, ""},      // no transport
		{"msrp://bob.example.com:8888/;tcp", URI{}, ""},   // empty session-id
		{"msrp://bob.example.com:/s;tcp", URI{}, ""},      // empty port
		{"msrp://bob.example.com:0/s;tcp", URI{}, ""},     // port 0
		{"msrp://bob.example.com:65536/s;tcp", URI{}, ""}, // port too big
		{"msrp://:80/s;tcp", URI{}, ""},                   // no host
		{"msrp://[2001:db8::1/s;tcp", URI{}, ""},          // unclosed literal
		{"msrp://[192.0.2.1]/s;tcp", URI{}, ""},           // IPv4 in brackets
		{"msrp://[fe80::1%eth0]/s;tcp", URI{}, ""},        // zone
		{"msrp://[::1]x/s;tcp", URI{}, ""},                // garbage after literal
		{"msrp://a@b@host/s;tcp", URI{}, ""},              // two @
		{"msrp://host/s s;tcp", URI{}, ""},                // space in session-id
		{"msrp://host/s;", URI{}, ""},                     // empty transport
		{"msrp://host/s;tcp;", URI{}, ""},                 // empty parameter
		{"msrp://host/s;t-p", URI{}, ""},                  // transport not ALPHANUM
		{"msrp://ho<st/s;tcp", URI{}, ""},                 // bad host char
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseURI(tc.in)
			if tc.want.Scheme == "" {
				if err == nil {
					t.Fatalf("ParseURI(%q) = %+v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseURI(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			out := tc.out
			if out == "" {
				out = tc.in
			}
			if s := got.String(); s != out {
				t.Errorf("String() = %q, want %q", s, out)
			}
			if again, err := ParseURI(got.String()); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("ParseURI(String()) = %+v, %v", again, err)
			}
		})
	}
}

// TestURIEqual follows RFC 4975 section 6.1.
func TestURIEqual(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want bool
	}{
		{"identical", "msrp://h.example.com:1/s;tcp", "msrp://h.example.com:1/s;tcp", true},
		{"scheme case", "MSRP://h.example.com:1/s;tcp", "msrp://h.example.com:1/s;tcp", true},
		{"host case", "msrp://H.Example.COM:1/s;tcp", "msrp://h.example.com:1/s;tcp", true},
		{"transport case", "msrp://h:1/s;TCP", "msrp://h:1/s;tcp", true},
		{"userinfo ignored", "msrp://alice@h:1/s;tcp", "msrp://h:1/s;tcp", true},
		{"params ignored", "msrp://h:1/s;tcp;foo=bar", "msrp://h:1/s;tcp", true},
		{"ipv6 forms", "msrp://[2001:DB8:0::1]:1/s;tcp", "msrp://[2001:db8::1]:1/s;tcp", true},
		{"ipv6 zero forms", "msrp://[::1]:1/s;tcp", "msrp://[0:0:0:0:0:0:0:1]:1/s;tcp", true},
		{"scheme differs", "msrps://h:1/s;tcp", "msrp://h:1/s;tcp", false},
		{"host differs", "msrp://h1:1/s;tcp", "msrp://h2:1/s;tcp", false},
		{"port differs", "msrp://h:1/s;tcp", "msrp://h:2/s;tcp", false},
		{"explicit vs absent port", "msrp://h:2855/s;tcp", "msrp://h/s;tcp", false},
		{"session-id case", "msrp://h:1/abc;tcp", "msrp://h:1/ABC;tcp", false},
		{"session-id absent", "msrp://h:1;tcp", "msrp://h:1/s;tcp", false},
		{"transport differs", "msrp://h:1/s;tcp", "msrp://h:1/s;ws", false},
		{"ipv6 differs", "msrp://[::1]:1/s;tcp", "msrp://[::2]:1/s;tcp", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseURI(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseURI(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Equal(b); got != tc.want {
				t.Errorf("%q.Equal(%q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := b.Equal(a); got != tc.want {
				t.Errorf("%q.Equal(%q) = %v, want %v", tc.b, tc.a, got, tc.want)
			}
		})
	}
}

func TestParsePath(t *testing.T) {
	p, err := ParsePath("msrps://a.example.com:2855/x;tcp  msrps://bob.example.com:8888/y;tcp")
	if err != nil || len(p) != 2 || p[1].Host != "bob.example.com" {
		t.Fatalf("ParsePath = %v, %v", p, err)
	}
	if s := p.String(); s != "msrps://a.example.com:2855/x;tcp msrps://bob.example.com:8888/y;tcp" {
		t.Errorf("String() = %q", s)
	}
	for _, bad := range []string{"", "   ", "msrp://a:1/x;tcp nope"} {
		if p, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) = %v, want an error", bad, p)
		}
	}
}
