package ws

import (
	"bytes"
	"testing"
)

// Frames written by AppendFrame, FrameInPlace and FrameAround read back
// through a Reader, masked from a client and unmasked from a server, with
// every length encoding (7-bit, 16-bit, 64-bit).
func TestFramesReadBack(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 0xffff, 0x10000, 100000} {
		payload := bytes.Repeat([]byte("msrp"), n/4+1)[:n]
		for _, mask := range []bool{false, true} {
			var in []byte
			in = AppendFrame(in, OpText, payload, mask)
			buf := append(make([]byte, MaxFrameHeader), payload...)
			in = append(in, FrameInPlace(buf, OpBinary, mask)...)
			if !mask {
				head := append(make([]byte, MaxFrameHeader), payload[:n/2]...)
				in = append(in, FrameAround(head, payload[n/2:], []byte("\r\n"))...)
				in = append(in, payload[n/2:]...)
				in = append(in, "\r\n"...)
			}
			// A client's frames are read by a server, and the other way.
			r, _ := newReader(in, !mask, 1<<20)
			for i, want := range [][]byte{payload, payload, append(payload, "\r\n"...)} {
				if i == 2 && mask {
					break
				}
				got, err := readMessage(r)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("length %d, masked %v, frame %d: read %d bytes, %v", n, mask, i, len(got), err)
				}
			}
		}
	}
	// The payload given is left as it was; the frame's copy is masked.
	p := []byte("hello")
	AppendFrame(nil, OpText, p, true)
	if string(p) != "hello" {
		t.Errorf("AppendFrame changed the caller's payload to %q", p)
	}
}

// Text for UTF-8, binary otherwise (RFC 7977 section 4.2).
func TestDataOpcode(t *testing.T) {
	if DataOpcode([]byte("MSRP a SEND\r\n")) != OpText || DataOpcode([]byte{0xff}) != OpBinary {
		t.Error("DataOpcode picks the wrong frame type")
	}
	head := append(make([]byte, MaxFrameHeader), "MSRP a SEND\r\n\r\n"...)
	if f := FrameAround(head, []byte{0xc3}, []byte("\r\n-------a$\r\n")); f[0] != 0x80|OpBinary {
		t.Errorf("FrameAround with a body that is not UTF-8: opcode %#x", f[0]&0x0f)
	}
}
