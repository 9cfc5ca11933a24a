package msrp

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNextPiece(t *testing.T) {
	const chunk = "MSRP abcd SEND\r\nTo-Path: msrp://a.example:1/s;tcp\r\nFrom-Path: msrp://b.example:2/t;tcp\r\n" +
		"Content-Type: text/plain\r\n\r\nhello, -------abcd world\r\n-------abcd+\r\n"
	tests := []struct {
		name      string
		oneByte   bool
		max       int
		wantWhole bool // the body comes as one piece that is also the last
	}{
		{"buffered: one piece that is the last", false, 0, true},
		{"max below body: pieces, then the last", false, 5, false},
		{"one byte at a time", true, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var src = strings.NewReader(chunk + chunk)
			r := NewReader(src, 0)
			if tc.oneByte {
				r = NewReader(iotest.OneByteReader(strings.NewReader(chunk+chunk)), 0)
			}
			for i := 0; i < 2; i++ {
				if _, err := r.ReadHeader(); err != nil {
					t.Fatal(err)
				}
				var body []byte
				pieces := 0
				for {
					p, last, err := r.NextPiece(tc.max)
					if err != nil {
						t.Fatal(err)
					}
					if tc.max > 0 && len(p) > tc.max {
						t.Fatalf("piece of %d bytes, max %d", len(p), tc.max)
					}
					body = append(body, p...)
					pieces++
					if last {
						break
					}
				}
				if string(body) != "hello, -------abcd world" || r.Flag() != '+' {
					t.Fatalf("body %q flag %c", body, r.Flag())
				}
				if tc.wantWhole && pieces != 1 {
					t.Errorf("%d pieces, want the body in one", pieces)
				}
			}
		})
	}
}

// splitReader returns its input in reads of the given sizes, in turn.
type splitReader struct {
	data  []byte
	sizes []int
	i     int
}

func (s *splitReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(s.data), s.sizes[s.i%len(s.sizes)])
	s.i++
	copy(p, s.data[:n])
	s.data = s.data[n:]
	return n, nil
}

// TestNextPieceNeverEmpty is issue 16's rule for relays: however TCP
// splits the input (here at every position around the header, the body's
// end and the end-line), no piece NextPiece returns is empty, the last one
// carries data and the chunk's flag, a chunk whose Byte-Range says it
// fits one piece (or that has none) is one piece, and a larger one
// streams in pieces of at least 2048 bytes.
func TestNextPieceNeverEmpty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ranged := range []string{"none", "known", "star"} {
		for _, bodyLen := range []int{0, 1, 5, 100, 2047, 2048, 2049, 4096, 10000} {
			for _, size := range []int{2048, 4096} {
				testNextPieceCuts(t, rng, ranged, bodyLen, size)
			}
		}
	}
}

func testNextPieceCuts(t *testing.T, rng *rand.Rand, ranged string, bodyLen, size int) {
	body := make([]byte, bodyLen)
	for i := range body {
		body[i] = "abc\r\n-"[rng.IntN(6)]
	}
	m := &Message{TransactionID: "tid12345", Method: MethodSEND,
		Headers: []Header{{Name: HeaderToPath, Value: "msrp://a.example:1/s;tcp"},
			{Name: HeaderFromPath, Value: "msrp://b.example:2/t;tcp"}},
		Body: body, Flag: FlagMore}
	switch ranged {
	case "known":
		m.Headers = append(m.Headers, Header{Name: HeaderByteRange, Value: fmt.Sprintf("1-%d/%d", bodyLen, bodyLen)})
	case "star":
		m.Headers = append(m.Headers, Header{Name: HeaderByteRange, Value: "1-*/*"})
	}
	m.Headers = append(m.Headers, Header{Name: HeaderContentType, Value: "text/plain"})
	wire, err := m.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	for cut := 1; cut < len(wire); cut++ {
		what := fmt.Sprintf("range %s body %d size %d cut %d", ranged, bodyLen, size, cut)
		r := NewReader(&splitReader{data: wire, sizes: []int{cut, 1 + rng.IntN(3000)}}, 0)
		h, err := r.ReadHeader()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var got []byte
		for pieces := 1; ; pieces++ {
			p, last, err := r.NextPiece(size)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			got = append(got, p...)
			switch {
			case len(p) == 0 && bodyLen > 0:
				t.Fatalf("%s: empty piece %d (last %v)", what, pieces, last)
			case len(p) > size:
				t.Fatalf("%s: piece %d of %d bytes", what, pieces, len(p))
			case !last && len(p) < min(2048, size):
				t.Fatalf("%s: piece %d of %d bytes before the last", what, pieces, len(p))
			case !last && ranged == "none" && len(p) != size:
				t.Fatalf("%s: piece %d of %d bytes before the last, want %d", what, pieces, len(p), size)
			case last && bodyLen <= size && ranged != "star" && pieces != 1:
				t.Fatalf("%s: %d pieces for a body that fits one", what, pieces)
			}
			if last {
				break
			}
		}
		if !bytes.Equal(got, body) || r.Flag() != FlagMore || h.TransactionID != "tid12345" {
			t.Fatalf("%s: got %d bytes, flag %q", what, len(got), r.Flag())
		}
	}
}
