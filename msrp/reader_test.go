package msrp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"
)

// twoParts returns data in two reads, split at k.
type twoParts struct {
	data []byte
	k    int
	n    int // reads done
}

func (p *twoParts) Read(b []byte) (int, error) {
	var part []byte
	switch p.n {
	case 0:
		part = p.data[:p.k]
	case 1:
		part = p.data[p.k:]
	default:
		return 0, io.EOF
	}
	n := copy(b, part)
	if n < len(part) {
		// b was short: keep the rest of this part for the next read.
		if p.n == 0 {
			p.data, p.k = p.data[n:], p.k-n
		} else {
			p.data = p.data[:p.k+len(part)]
			p.k += n
		}
		return n, nil
	}
	p.n++
	return n, nil
}

// TestSplitReads feeds every sample split at every byte, one byte at a
// time and through the iotest chunkers; all must read alike.
func TestSplitReads(t *testing.T) {
	for _, s := range append(loadSamples(t, "valid-"), loadSamples(t, "invalid-")...) {
		t.Run(s.name, func(t *testing.T) {
			want := readAll(bytes.NewReader(s.data), 0)
			check := func(how string, r io.Reader) {
				t.Helper()
				if got := readAll(r, 0); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s:\n got %s\nwant %s", how, describe(got), describe(want))
				}
			}
			check("one byte", iotest.OneByteReader(bytes.NewReader(s.data)))
			check("half", iotest.HalfReader(bytes.NewReader(s.data)))
			check("data+EOF", iotest.DataErrReader(bytes.NewReader(s.data)))
			check("one byte data+EOF", iotest.DataErrReader(iotest.OneByteReader(bytes.NewReader(s.data))))
			for k := 0; k <= len(s.data); k++ {
				check(fmt.Sprintf("split at %d", k), &twoParts{data: s.data, k: k})
			}
		})
	}
}

// TestStream reads all samples back-to-back from one stream, with CRLF
// keepalives between some of them.
func TestStream(t *testing.T) {
	valid := loadSamples(t, "valid-")
	var stream []byte
	var want []*Message
	for i, s := range valid {
		stream = append(stream, s.data...)
		if i%3 == 0 {
			stream = append(stream, "\r\n\r\n"...)
		}
		m, err := Parse(s.data, 0)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	// A recoverable error in the middle must not disturb what follows.
	bad, err := os.ReadFile(filepath.Join(wireDir, "invalid-missing-to-path.msrp"))
	if err != nil {
		t.Fatal(err)
	}
	stream = append(bad, stream...)
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader(stream),
		"one byte": iotest.OneByteReader(bytes.NewReader(stream)),
		"half":     iotest.HalfReader(bytes.NewReader(stream)),
	} {
		t.Run(name, func(t *testing.T) {
			got := readAll(r, 0)
			if len(got) != len(want)+1 || got[0].err == "" {
				t.Fatalf("got %d results (first error %q), want %d", len(got), got[0].err, len(want)+1)
			}
			for i, w := range want {
				if g := got[i+1]; g.err != "" || !reflect.DeepEqual(g.m, w) {
					t.Errorf("chunk %d (%s) = %+v, %s; want %+v", i, valid[i].name, g.m, g.err, w)
				}
			}
		})
	}
}

// TestNextBodySmallMax reassembles bodies from pieces of at most max bytes.
func TestNextBodySmallMax(t *testing.T) {
	for _, s := range loadSamples(t, "valid-") {
		want, err := Parse(s.data, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, max := range []int{1, 2, 3, 7, 64} {
			t.Run(fmt.Sprintf("%s/max=%d", s.name, max), func(t *testing.T) {
				rd := NewReader(iotest.HalfReader(bytes.NewReader(s.data)), 0)
				m, err := rd.ReadHeader()
				if err != nil {
					t.Fatal(err)
				}
				if want.Body == nil {
					if m.Body != nil || m.Flag != want.Flag || rd.Flag() != want.Flag {
						t.Errorf("bodiless: Body %q, Flag %q", m.Body, m.Flag)
					}
					return
				}
				var body []byte
				for {
					piece, err := rd.NextBody(max)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if len(piece) == 0 || len(piece) > max {
						t.Fatalf("NextBody(%d) returned %d bytes", max, len(piece))
					}
					body = append(body, piece...)
				}
				if !bytes.Equal(body, want.Body) || rd.Flag() != want.Flag {
					t.Errorf("body %q flag %q, want %q %q", body, rd.Flag(), want.Body, want.Flag)
				}
			})
		}
	}
}

// TestReadIntoEmptySlice: Read(nil) must not lose body bytes.
func TestReadIntoEmptySlice(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(wireDir, "valid-rfc4975-send.msrp"))
	if err != nil {
		t.Fatal(err)
	}
	rd := NewReader(bytes.NewReader(data), 0)
	if _, err := rd.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if n, err := rd.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
	body, err := io.ReadAll(rd)
	if err != nil || string(body) != "Hey Bob, are you there?" {
		t.Errorf("body = %q, %v", body, err)
	}
}

// TestBodyTooLarge: ReadMessage's limit gives a recoverable 413.
func TestBodyTooLarge(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(wireDir, "valid-rfc4975-send.msrp"))
	if err != nil {
		t.Fatal(err)
	}
	rd := NewReader(bytes.NewReader(append(append([]byte{}, data...), data...)), 0)
	m, err := rd.ReadMessage(10)
	var pe *ParseError
	if !errors.Is(err, ErrBodyTooLarge) || !errors.As(err, &pe) || pe.Code != 413 || pe.Fatal || m == nil {
		t.Fatalf("ReadMessage(10) = %v, %v; want a recoverable 413", m, err)
	}
	if m, err := rd.ReadMessage(0); err != nil || string(m.Body) != "Hey Bob, are you there?" {
		t.Errorf("next ReadMessage = %v, %v", m, err)
	}
}

// TestHeaderLimit: a block of exactly maxHeader bytes passes in both
// parsers, one byte more fails in both.
func TestHeaderLimit(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(wireDir, "valid-bodiless-send.msrp"))
	if err != nil {
		t.Fatal(err)
	}
	size := len(data) - len("\r\n") // block and end-line up to its flag
	bodyData, err := os.ReadFile(filepath.Join(wireDir, "valid-rfc4975-send.msrp"))
	if err != nil {
		t.Fatal(err)
	}
	bodySize := bytes.Index(bodyData, []byte("\r\n\r\n")) + 4
	for _, tc := range []struct {
		name  string
		data  []byte
		limit int
		ok    bool
	}{
		{"bodiless at limit", data, size, true},
		{"bodiless over limit", data, size - 1, false},
		{"body at limit", bodyData, bodySize, true},
		{"body over limit", bodyData, bodySize - 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, perr := Parse(tc.data, tc.limit)
			_, rerr := NewReader(iotest.OneByteReader(bytes.NewReader(tc.data)), tc.limit).ReadMessage(0)
			for what, err := range map[string]error{"Parse": perr, "Reader": rerr} {
				var pe *ParseError
				if tc.ok && err != nil || !tc.ok && !(errors.As(err, &pe) && pe.Code == 413 && pe.Fatal) {
					t.Errorf("%s with limit %d = %v, want ok %v", what, tc.limit, err, tc.ok)
				}
			}
		})
	}
}
