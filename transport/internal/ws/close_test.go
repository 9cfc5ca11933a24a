package ws

import (
	"errors"
	"testing"
)

func TestParseClose(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		code    int
		reason  string
		bad     bool
	}{
		{"no payload", nil, CloseNoStatus, "", false},
		{"code only", []byte{0x03, 0xe8}, 1000, "", false},
		{"code and reason", append([]byte{0x03, 0xe9}, "bye"...), 1001, "bye", false},
		{"application code", []byte{0x0f, 0xa0}, 4000, "", false},
		{"one byte", []byte{3}, 0, "", true},
		{"reserved 1005", []byte{0x03, 0xed}, 0, "", true},
		{"reserved 1015", []byte{0x03, 0xf7}, 0, "", true},
		{"unassigned 2000", []byte{0x07, 0xd0}, 0, "", true},
		{"reason not UTF-8", []byte{0x03, 0xe8, 0xff}, 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClose(tc.payload)
			var we *Error
			if tc.bad {
				if !errors.As(err, &we) || we.Code != CloseProtocolError {
					t.Errorf("ParseClose = %d, %q, %v; want a 1002 *Error", code, reason, err)
				}
				return
			}
			if err != nil || code != tc.code || reason != tc.reason {
				t.Errorf("ParseClose = %d, %q, %v; want %d, %q", code, reason, err, tc.code, tc.reason)
			}
		})
	}
}
