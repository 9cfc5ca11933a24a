package msrp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzMaxInput caps what one fuzz input may be, so that no input can make
// a target allocate without bound.
const fuzzMaxInput = 64 << 10

// fuzzMaxHeader is small so that the header limit is hit often.
const fuzzMaxHeader = 1024

// addWireSeeds seeds f with every sample of testdata/wire; args builds the
// seed's arguments from the sample's bytes.
func addWireSeeds(f *testing.F, args func(data []byte) []any) {
	f.Helper()
	for _, s := range append(loadSamples(f, "valid-"), loadSamples(f, "invalid-")...) {
		f.Add(args(s.data)...)
	}
}

// canonical returns m with its headers in the order the Writer puts them,
// which is what a round trip gives back.
func canonical(m *Message) *Message {
	c := *m
	c.Headers = make([]Header, 0, len(m.Headers))
	for _, pass := range []func(string) bool{
		func(n string) bool { return strings.EqualFold(n, HeaderToPath) },
		func(n string) bool { return strings.EqualFold(n, HeaderFromPath) },
		func(n string) bool {
			return !strings.EqualFold(n, HeaderToPath) && !strings.EqualFold(n, HeaderFromPath) && !strings.EqualFold(n, HeaderContentType)
		},
		func(n string) bool { return strings.EqualFold(n, HeaderContentType) },
	} {
		for _, h := range m.Headers {
			if pass(h.Name) {
				c.Headers = append(c.Headers, h)
			}
		}
	}
	return &c
}

// checkRoundTrip writes m and parses it back; the result must equal m in
// canonical header order.
func checkRoundTrip(t *testing.T, m *Message) {
	t.Helper()
	out, err := m.AppendTo(nil)
	if errors.Is(err, ErrEndLineInBody) && containsEndLine(m.Body, m.TransactionID) {
		// The body holds "-------tid$" without a CRLF in front: fine for
		// a reader, refused by the (stricter) Writer.
		return
	}
	if err != nil {
		t.Fatalf("AppendTo(%+v) = %v", *m, err)
	}
	back, err := Parse(out, len(out))
	if err != nil {
		t.Fatalf("Parse(AppendTo(m)) = %v\nwire %q", err, out)
	}
	if want := canonical(m); !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v\nwire %q", *back, *want, out)
	}
}

// FuzzReader feeds input to the Reader whole, split in two at a fuzzed
// position, and in halves; all must read alike, and every chunk read must
// survive a round trip.
func FuzzReader(f *testing.F) {
	addWireSeeds(f, func(d []byte) []any { return []any{d, uint(len(d) / 2)} })
	f.Fuzz(func(t *testing.T, data []byte, split uint) {
		if len(data) > fuzzMaxInput {
			return
		}
		k := int(split % uint(len(data)+1))
		rd := NewReader(bytes.NewReader(data), fuzzMaxHeader)
		size := rd.br.Size()
		var want []result
		for len(want) < 1000 {
			m, err := rd.ReadMessage(0)
			if rd.br.Size() != size || rd.br.Buffered() > size {
				t.Fatalf("Reader buffer grew to %d (buffered %d), want %d", rd.br.Size(), rd.br.Buffered(), size)
			}
			if err == io.EOF {
				break
			}
			res := result{m: m}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("ReadMessage error %v is no *ParseError", err)
				}
				if !pe.Fatal && m == nil {
					t.Fatalf("non-fatal %v without its Message", err)
				}
				res.err = err.Error()
			} else {
				checkRoundTrip(t, m)
			}
			want = append(want, res)
			if IsFatal(err) {
				break
			}
		}
		if got := readAll(&twoParts{data: data, k: k}, fuzzMaxHeader); !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d:\n got %s\nwant %s", k, describe(got), describe(want))
		}
		if got := readAll(iotest.HalfReader(bytes.NewReader(data)), fuzzMaxHeader); !reflect.DeepEqual(got, want) {
			t.Fatalf("half reader:\n got %s\nwant %s", describe(got), describe(want))
		}
	})
}

// FuzzParse checks the whole-chunk parser: no panic, round trip, and the
// same Message as the Reader where both succeed.
func FuzzParse(f *testing.F) {
	addWireSeeds(f, func(d []byte) []any { return []any{d} })
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		m, err := Parse(data, fuzzMaxHeader)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %v is no *ParseError", err)
			}
			if !pe.Fatal && m == nil {
				t.Fatalf("non-fatal %v without its Message", err)
			}
			return
		}
		checkRoundTrip(t, m)
		got := readAll(bytes.NewReader(data), fuzzMaxHeader)
		if len(got) != 1 || got[0].err != "" || !reflect.DeepEqual(got[0].m, m) {
			t.Fatalf("Parse = %+v\nReader = %s", *m, describe(got))
		}
	})
}

// FuzzParseURI checks parse → String → parse.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"msrp://bob.example.com:8888/9di4eae923wzd;tcp",
		"msrps://alice@intra.example.com;tcp",
		"msrps://df7jal23ls0d.invalid/98cjs;ws",
		"msrp://[2001:db8::1]:2855/s;tcp;foo=bar",
		"MSRP://[::FFFF:192.0.2.1]/a/b+c=;TCP;x;y=z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			return
		}
		out := u.String()
		v, err := ParseURI(out)
		if err != nil {
			t.Fatalf("ParseURI(%q) = %+v, but ParseURI(%q) = %v", s, u, out, err)
		}
		if !reflect.DeepEqual(u, v) || !u.Equal(v) || !v.Equal(u) {
			t.Fatalf("ParseURI(%q) = %+v, after String %q: %+v", s, u, out, v)
		}
		if v.String() != out {
			t.Fatalf("String not stable: %q then %q", out, v.String())
		}
		if p, err := ParsePath(out + " " + out); err != nil || len(p) != 2 || !p[1].Equal(u) {
			t.Fatalf("ParsePath(%q twice) = %v, %v", out, p, err)
		}
	})
}
