package msrp

import "testing"

func TestParseByteRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteRange
		ok   bool
	}{
		{"1-25/25", ByteRange{1, 25, 25}, true},
		{"1-*/*", ByteRange{1, Unknown, Unknown}, true},
		{"11-20/20", ByteRange{11, 20, 20}, true},
		{"1-0/0", ByteRange{1, 0, 0}, true},
		{"2049-*/8000", ByteRange{2049, Unknown, 8000}, true},
		{"5-10/*", ByteRange{5, 10, Unknown}, true},
		{" 1-2/3 ", ByteRange{1, 2, 3}, true},
		{"9007199254740992-*/*", ByteRange{1 << 53, Unknown, Unknown}, true},
		{"0-5/10", ByteRange{}, false},                   // 1-based
		{"5-3/10", ByteRange{}, false},                   // end before start
		{"1-11/10", ByteRange{}, false},                  // end beyond total
		{"12-*/10", ByteRange{}, false},                  // start beyond total
		{"1-*/99999999999999999999", ByteRange{}, false}, // huge total
		{"9007199254740993-*/*", ByteRange{}, false},     // beyond 2^53
		{"*-5/10", ByteRange{}, false},
		{"1-5", ByteRange{}, false},
		{"1/5", ByteRange{}, false},
		{"1-5/10/2", ByteRange{}, false},
		{"-1-5/10", ByteRange{}, false},
		{"+1-5/10", ByteRange{}, false},
		{"1 -5/10", ByteRange{}, false},
		{"", ByteRange{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseByteRange(tc.in)
			if (err == nil) != tc.ok || tc.ok && got != tc.want {
				t.Fatalf("ParseByteRange(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
			if tc.ok {
				if again, err := ParseByteRange(got.String()); err != nil || again != got {
					t.Errorf("ParseByteRange(%q) = %+v, %v", got.String(), again, err)
				}
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Status
		ok   bool
		out  string
	}{
		{"000 200 OK", Status{0, 200, "OK"}, true, "000 200 OK"},
		{"000 408", Status{0, 408, ""}, true, "000 408"},
		{"000 413 Message Too Large", Status{0, 413, "Message Too Large"}, true, "000 413 Message Too Large"},
		{"000 099", Status{}, false, ""},
		{"00 200", Status{}, false, ""},
		{"000 20", Status{}, false, ""},
		{"000 2000", Status{}, false, ""},
		{"000", Status{}, false, ""},
		{"abc 200", Status{}, false, ""},
		{"", Status{}, false, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseStatus(tc.in)
			if (err == nil) != tc.ok || tc.ok && got != tc.want {
				t.Fatalf("ParseStatus(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
			if tc.ok && got.String() != tc.out {
				t.Errorf("String() = %q, want %q", got.String(), tc.out)
			}
		})
	}
}
