package msrp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// HeadScanner, fed a sample's bytes in growing prefixes (as a WebSocket
// message arrives), finds the same header block as Parse and needs no
// more bytes than the block.
func TestHeadScannerGrowingInput(t *testing.T) {
	for _, s := range loadSamples(t, "valid-") {
		t.Run(s.name, func(t *testing.T) {
			want, err := Parse(s.data, 0)
			if err != nil {
				t.Fatal(err)
			}
			var h HeadScanner
			for i := 0; i <= len(s.data); i++ {
				m, n, err := h.Scan(s.data[:i], 0)
				if err != nil {
					t.Fatalf("at %d: %v", i, err)
				}
				if m == nil {
					continue
				}
				if !reflect.DeepEqual(m.Headers, want.Headers) || m.TransactionID != want.TransactionID ||
					(m.Body == nil) != (want.Body == nil) {
					t.Fatalf("at %d: %+v, want %+v", i, m, want)
				}
				if want.Body == nil && m.Flag != want.Flag {
					t.Fatalf("bodiless flag %c, want %c", m.Flag, want.Flag)
				}
				if n > i || n == 0 {
					t.Fatalf("block of %d bytes from %d", n, i)
				}
				return
			}
			t.Fatal("no header block found")
		})
	}
}

// A header block over the limit is a fatal 413 that keeps the lines
// before the limit when they name both paths, so the 413 can be framed;
// without the paths (or for a response) there is nothing to answer.
func TestHeadScannerOverLimit(t *testing.T) {
	pad := "X-Pad: " + strings.Repeat("a", 300) + "\r\n"
	tests := []struct {
		name, block string
		wantMsg     bool
	}{
		{"paths first", "MSRP tid12345 SEND\r\nTo-Path: msrp://a.example:1/x;tcp\r\nFrom-Path: msrp://b.example:2/y;tcp\r\n" + pad, true},
		{"path after the limit", "MSRP tid12345 SEND\r\nTo-Path: msrp://a.example:1/x;tcp\r\n" + pad + "From-Path: msrp://b.example:2/y;tcp\r\n", false},
		{"response", "MSRP tid12345 200 OK\r\nTo-Path: msrp://a.example:1/x;tcp\r\nFrom-Path: msrp://b.example:2/y;tcp\r\n" + pad, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h HeadScanner
			m, _, err := h.Scan([]byte(tc.block+pad), 200)
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Code != 413 || !pe.Fatal || pe.TransactionID != "tid12345" {
				t.Fatalf("error %v, want a fatal 413 for tid12345", err)
			}
			if (m != nil) != tc.wantMsg {
				t.Fatalf("message %+v, want one: %v", m, tc.wantMsg)
			}
			if m != nil {
				r := m.Response(413, "too large")
				if r.Header(HeaderToPath) != "msrp://b.example:2/y;tcp" {
					t.Errorf("413 goes to %q", r.Header(HeaderToPath))
				}
			}
			// The streaming Reader gives the same.
			rm, rerr := NewReader(strings.NewReader(tc.block+pad), 200).ReadHeader()
			if !errors.As(rerr, &pe) || pe.Code != 413 || (rm != nil) != tc.wantMsg {
				t.Fatalf("Reader: %+v, %v", rm, rerr)
			}
		})
	}
}
