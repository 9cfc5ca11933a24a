package endpoint

import (
	"bytes"
	"testing"

	"github.com/msrpd/msrpd/msrp"
)

func TestAssemblyOrder(t *testing.T) {
	body := []byte("abcdefghijklmnopqrstuvwxyz")
	type piece struct {
		off      int64
		data     string
		complete bool
	}
	for _, tc := range []struct {
		name   string
		total  int64
		pieces []piece
		last   int64 // end of the '$' chunk when total is unknown
		want   string
	}{
		{"in order", 26, []piece{{0, "abcdefghij", false}, {10, "klmnopqrstuvwxyz", true}}, -1, string(body)},
		{"reversed", 26, []piece{{20, "uvwxyz", false}, {10, "klmnopqrst", false}, {0, "abcdefghij", true}}, -1, string(body)},
		{"overlap last wins", 26, []piece{{0, "abcdefghijklm", false}, {10, "KLMnopqrstuvwxyz", true}}, -1, "abcdefghijKLMnopqrstuvwxyz"},
		{"gap", 26, []piece{{0, "abc", false}, {10, "klmnopqrstuvwxyz", false}}, -1, ""},
		{"unknown total", msrp.Unknown, []piece{{10, "klmnopqrstuvwxyz", false}, {0, "abcdefghij", true}}, 26, string(body)},
		{"empty", 0, nil, -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &assembly{id: "m", total: tc.total, lastEnd: -1, max: 1 << 20}
			if tc.total > 0 {
				a.buf = make([]byte, tc.total)
			}
			for i, p := range tc.pieces {
				if err := a.write(p.off, []byte(p.data)); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				if i == len(tc.pieces)-1 && tc.last >= 0 {
					a.lastEnd = tc.last
				}
				if got := a.complete(); got != p.complete {
					t.Fatalf("after piece %d complete = %v, want %v (have %v)", i, got, p.complete, a.have)
				}
			}
			if !a.complete() {
				if tc.want != "" || tc.total != 0 && len(tc.pieces) == 0 {
					t.Fatalf("incomplete, want %q", tc.want)
				}
				return
			}
			m, err := a.message()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Body, []byte(tc.want)) {
				t.Errorf("body %q, want %q", m.Body, tc.want)
			}
		})
	}
}

func TestAssemblyRefusesBeyondTotal(t *testing.T) {
	a := &assembly{id: "m", total: 4, lastEnd: -1, max: 1 << 20, buf: make([]byte, 4)}
	if err := a.write(2, []byte("xyz")); err == nil {
		t.Error("write beyond the total accepted")
	}
}
