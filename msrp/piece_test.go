package msrp

import (
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
