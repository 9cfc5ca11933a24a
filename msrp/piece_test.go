package msrp

import (
	"bytes"
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
// splits the input (here at every position around the header, the
// body's end and the end-line), NextPiece returns full pieces, then the
// rest with the end-line, so no forwarded piece is empty and the last
// one carries the chunk's flag; a body that fits one piece is one piece.
func TestNextPieceNeverEmpty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bodyLen := range []int{0, 1, 5, 100, 2047, 2048, 2049, 4096, 10000} {
		for _, size := range []int{2048, 4096} {
			body := make([]byte, bodyLen)
			for i := range body {
				body[i] = "abc\r\n-"[rng.IntN(6)]
			}
			m := &Message{TransactionID: "tid12345", Method: MethodSEND,
				Headers: []Header{{Name: HeaderToPath, Value: "msrp://a.example:1/s;tcp"},
					{Name: HeaderFromPath, Value: "msrp://b.example:2/t;tcp"},
					{Name: HeaderContentType, Value: "text/plain"}},
				Body: body, Flag: FlagMore}
			wire, err := m.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			for cut := 1; cut < len(wire); cut++ {
				r := NewReader(&splitReader{data: wire, sizes: []int{cut, 1 + rng.IntN(3000)}}, 0)
				h, err := r.ReadHeader()
				if err != nil {
					t.Fatalf("body %d cut %d: %v", bodyLen, cut, err)
				}
				var got []byte
				for pieces := 1; ; pieces++ {
					p, last, err := r.NextPiece(size)
					if err != nil {
						t.Fatalf("body %d cut %d: %v", bodyLen, cut, err)
					}
					got = append(got, p...)
					switch {
					case len(p) == 0 && bodyLen > 0:
						t.Fatalf("body %d size %d cut %d: empty piece %d (last %v)", bodyLen, size, cut, pieces, last)
					case !last && len(p) != size:
						t.Fatalf("body %d size %d cut %d: piece %d of %d bytes before the last", bodyLen, size, cut, pieces, len(p))
					case last && bodyLen <= size && pieces != 1:
						t.Fatalf("body %d size %d cut %d: %d pieces for a body that fits one", bodyLen, size, cut, pieces)
					}
					if last {
						break
					}
				}
				if !bytes.Equal(got, body) || r.Flag() != FlagMore || h.TransactionID != "tid12345" {
					t.Fatalf("body %d cut %d: got %d bytes, flag %q", bodyLen, cut, len(got), r.Flag())
				}
			}
		}
	}
}
