package msrp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// wireDir holds the shared wire samples; see its README.md.
const wireDir = "../testdata/wire"

// wantErr is the error an invalid sample must give.
type wantErr struct {
	Code  int
	Fatal bool
}

// invalidWant maps each invalid sample to the first error of
// Reader.ReadMessage and of Parse. They differ only where Parse knows the
// chunk's end from the transport (a WebSocket message).
var invalidWant = map[string]struct{ reader, parse wantErr }{
	"invalid-start-http.msrp":                    {wantErr{0, true}, wantErr{0, true}},
	"invalid-start-no-method.msrp":               {wantErr{0, true}, wantErr{0, true}},
	"invalid-start-bad-tid.msrp":                 {wantErr{0, true}, wantErr{0, true}},
	"invalid-start-bad-status.msrp":              {wantErr{0, true}, wantErr{0, true}},
	"invalid-start-bad-method.msrp":              {wantErr{0, true}, wantErr{0, true}},
	"invalid-start-tid-too-long.msrp":            {wantErr{0, true}, wantErr{0, true}},
	"invalid-start-control-in-comment.msrp":      {wantErr{0, true}, wantErr{0, true}},
	"invalid-missing-to-path.msrp":               {wantErr{400, false}, wantErr{400, false}},
	"invalid-duplicate-from-path.msrp":           {wantErr{400, false}, wantErr{400, false}},
	"invalid-header-too-large.msrp":              {wantErr{413, true}, wantErr{413, true}},
	"invalid-byte-range-end-before-start.msrp":   {wantErr{400, false}, wantErr{400, false}},
	"invalid-byte-range-huge-total.msrp":         {wantErr{400, false}, wantErr{400, false}},
	"invalid-byte-range-syntax.msrp":             {wantErr{400, false}, wantErr{400, false}},
	"invalid-byte-range-start-beyond-total.msrp": {wantErr{400, false}, wantErr{400, false}},
	"invalid-garbage.msrp":                       {wantErr{0, true}, wantErr{0, true}},
	"invalid-body-no-end-line.msrp":              {wantErr{0, true}, wantErr{400, false}},
	"invalid-header-no-colon.msrp":               {wantErr{400, false}, wantErr{400, false}},
	"invalid-header-control-char.msrp":           {wantErr{400, false}, wantErr{400, false}},
	"invalid-bodiless-content-type.msrp":         {wantErr{400, false}, wantErr{400, false}},
	"invalid-header-block-no-end.msrp":           {wantErr{0, true}, wantErr{0, true}},
}

type sample struct {
	name string
	data []byte
}

// loadSamples returns the samples of testdata/wire whose names start with
// prefix, sorted by name.
func loadSamples(t testing.TB, prefix string) []sample {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(wireDir, prefix+"*.msrp"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var out []sample
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{filepath.Base(n), data})
	}
	if len(out) == 0 {
		t.Fatalf("no %s samples in %s", prefix, wireDir)
	}
	return out
}

// result is one ReadMessage outcome, comparable with reflect.DeepEqual.
type result struct {
	m   *Message
	err string
}

// readAll reads chunks from r until an error, recording each outcome; a
// non-fatal error does not stop it. It stops at 1000 results, far more than
// any test stream holds.
func readAll(r io.Reader, maxHeader int) []result {
	rd := NewReader(r, maxHeader)
	var out []result
	for len(out) < 1000 {
		m, err := rd.ReadMessage(0)
		if err == io.EOF {
			return out
		}
		res := result{m: m}
		if err != nil {
			res.err = err.Error()
		}
		out = append(out, res)
		if IsFatal(err) {
			return out
		}
	}
	return out
}

func describe(rs []result) string {
	var b strings.Builder
	for _, r := range rs {
		if r.m != nil {
			fmt.Fprintf(&b, "%+v ", *r.m)
		}
		fmt.Fprintf(&b, "err=%q\n", r.err)
	}
	return b.String()
}

// TestValidSamples parses each valid sample with the Reader and with
// Parse, which must agree.
func TestValidSamples(t *testing.T) {
	for _, s := range loadSamples(t, "valid-") {
		t.Run(s.name, func(t *testing.T) {
			got := readAll(bytes.NewReader(s.data), 0)
			if len(got) != 1 || got[0].err != "" {
				t.Fatalf("ReadMessage(%s) = %s, want one message", s.name, describe(got))
			}
			pm, err := Parse(s.data, 0)
			if err != nil {
				t.Fatalf("Parse(%s) = %v", s.name, err)
			}
			if !reflect.DeepEqual(pm, got[0].m) {
				t.Errorf("Parse = %+v\nReader = %+v", *pm, *got[0].m)
			}
			if _, err := pm.ToPath(); err != nil {
				t.Errorf("To-Path: %v", err)
			}
			if _, err := pm.FromPath(); err != nil {
				t.Errorf("From-Path: %v", err)
			}
			if br, ok, err := pm.ByteRange(); ok && err != nil {
				t.Errorf("ByteRange() = %v, %v", br, err)
			}
		})
	}
}

// TestInvalidSamples checks the stated error of each invalid sample.
func TestInvalidSamples(t *testing.T) {
	samples := loadSamples(t, "invalid-")
	if len(samples) != len(invalidWant) {
		t.Errorf("%d invalid samples, %d entries in invalidWant", len(samples), len(invalidWant))
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			want, ok := invalidWant[s.name]
			if !ok {
				t.Fatalf("no entry in invalidWant")
			}
			rd := NewReader(bytes.NewReader(s.data), 0)
			m, err := rd.ReadMessage(0)
			checkErr(t, "ReadMessage", m, err, want.reader)
			if !want.reader.Fatal {
				// Framing survived: the rest of the stream is clean.
				if m2, err := rd.ReadMessage(0); err != io.EOF {
					t.Errorf("second ReadMessage = %v, %v, want io.EOF", m2, err)
				}
			} else if _, err2 := rd.ReadHeader(); err2 != err {
				t.Errorf("ReadHeader after fatal error = %v, want the same error again", err2)
			}
			pm, err := Parse(s.data, 0)
			checkErr(t, "Parse", pm, err, want.parse)
		})
	}
}

func checkErr(t *testing.T, what string, m *Message, err error, want wantErr) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("%s error = %v, want a *ParseError", what, err)
	}
	if pe.Code != want.Code || pe.Fatal != want.Fatal || IsFatal(err) != want.Fatal {
		t.Errorf("%s error = %v (code %d, fatal %v), want code %d, fatal %v", what, err, pe.Code, pe.Fatal, want.Code, want.Fatal)
	}
	if !pe.Fatal && (m == nil || m.TransactionID != pe.TransactionID) {
		t.Errorf("%s: non-fatal error without its Message: %v, %v", what, m, err)
	}
}

// TestRoundTrip writes every valid sample back: the bytes must be the
// same (the samples are in the Writer's canonical form) and parse equal.
func TestRoundTrip(t *testing.T) {
	for _, s := range loadSamples(t, "valid-") {
		t.Run(s.name, func(t *testing.T) {
			m, err := Parse(s.data, 0)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.AppendTo(nil)
			if err != nil {
				t.Fatalf("AppendTo: %v", err)
			}
			if !bytes.Equal(out, s.data) {
				t.Errorf("AppendTo =\n%q\nwant\n%q", out, s.data)
			}
			m2, err := Parse(out, 0)
			if err != nil || !reflect.DeepEqual(m, m2) {
				t.Errorf("Parse(AppendTo(m)) = %+v, %v; want %+v", m2, err, m)
			}
			var buf bytes.Buffer
			if err := NewWriter(&buf).WriteMessage(m); err != nil || !bytes.Equal(buf.Bytes(), out) {
				t.Errorf("WriteMessage = %q, %v; want %q", buf.Bytes(), err, out)
			}
		})
	}
}

// TestBodilessSendByteExact builds the bodiless SEND sample from scratch.
func TestBodilessSendByteExact(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(wireDir, "valid-bodiless-send.msrp"))
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{
		TransactionID: "4rt5jh9k",
		Method:        MethodSEND,
		Headers: []Header{
			{HeaderMessageID, "2s93i93idj"},
			{HeaderByteRange, "1-0/0"},
			// Out of order on purpose: the Writer puts the paths first.
			{HeaderFromPath, "msrp://alice.example.com:7777/iau39soe2843z;tcp"},
			{HeaderToPath, "msrp://bob.example.com:8888/9di4eae923wzd;tcp"},
		},
	}
	got, err := m.AppendTo(nil)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("AppendTo = %q, %v; want %q", got, err, want)
	}
}
