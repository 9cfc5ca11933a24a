package ws

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A message in fragments, with control frames between them (RFC 6455
// sections 5.4 and 5.5): the controls reach the Handler as they come,
// unmasked, and the payload reads whole.
func TestReaderFragmentsAndControls(t *testing.T) {
	in := bytes.Join([][]byte{
		frame(0x80|OpPing, []byte("before"), true),
		frame(OpText, []byte("Hello, "), true),
		frame(0x80|OpPing, []byte("mid"), true),
		frame(OpContinuation, []byte("fragmented "), true),
		frame(0x80|OpPong, nil, true),
		frame(0x80|OpContinuation, []byte("world"), true),
		frame(0x80|OpBinary, []byte{0xff, 0}, true),
	}, nil)
	r, h := newReader(in, false, 1<<20)
	msg, err := readMessage(r)
	if err != nil || string(msg) != "Hello, fragmented world" {
		t.Fatalf("first message %q, %v", msg, err)
	}
	want := []control{{OpPing, "before"}, {OpPing, "mid"}, {OpPong, ""}}
	if len(h.controls) != len(want) {
		t.Fatalf("controls %v, want %v", h.controls, want)
	}
	for i := range want {
		if h.controls[i] != want[i] {
			t.Errorf("control %d: %v, want %v", i, h.controls[i], want[i])
		}
	}
	if msg, err := readMessage(r); err != nil || !bytes.Equal(msg, []byte{0xff, 0}) {
		t.Errorf("second message %q, %v", msg, err)
	}
	if err := r.NextMessage(); err != io.EOF {
		t.Errorf("after the last message: %v, want io.EOF", err)
	}
	if h.before == 0 {
		t.Error("the Reader never called BeforeRead")
	}
}

// A Handler's error ends the read, as a peer's Close frame does.
func TestReaderControlError(t *testing.T) {
	in := frame(0x80|OpClose, []byte{0x03, 0xe8}, true)
	r, h := newReader(in, false, 1<<20)
	h.err = errors.New("closed by peer")
	if err := r.NextMessage(); err != h.err {
		t.Errorf("NextMessage = %v, want the Handler's error", err)
	}
}

// Frames that break RFC 6455 fail the read with an *Error whose Code is
// the Close code the peer gets.
func TestReaderProtocolErrors(t *testing.T) {
	const limit = 100
	for _, tc := range []struct {
		name   string
		in     []byte
		client bool // we are the client
		code   int
		want   string
	}{
		{"unmasked frame from a client", frame(0x81, []byte("x"), false), false, 1002, "unmasked"},
		{"masked frame from a server", frame(0x81, []byte("x"), true), true, 1002, "masked frame from the server"},
		{"reserved bit", frame(0xc1, []byte("x"), true), false, 1002, "reserved bits"},
		{"unknown opcode", frame(0x83, nil, true), false, 1002, "unknown opcode"},
		{"fragmented control frame", frame(OpPing, nil, true), false, 1002, "fragmented control"},
		{"control frame over 125 bytes", frame(0x80|OpPing, bytes.Repeat([]byte("p"), 126), true), false, 1002, "over 125"},
		{"continuation without a message", frame(0x80|OpContinuation, []byte("x"), true), false, 1002, "continuation frame without"},
		{"data frame inside a message", append(frame(OpText, []byte("a"), true), frame(0x81, []byte("b"), true)...), false, 1002, "data frame inside"},
		{"64-bit length with its top bit set", []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, false, 1002, "most significant bit"},
		{"message over the limit", frame(0x82, make([]byte, limit+1), true), false, 1009, "read limit"},
		{"fragments over the limit", append(frame(OpBinary, make([]byte, 60), true), frame(0x80, make([]byte, 60), true)...), false, 1009, "read limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newReader(tc.in, tc.client, limit)
			_, err := readMessage(r)
			var we *Error
			if !errors.As(err, &we) || we.Code != tc.code || !strings.Contains(we.Reason, tc.want) {
				t.Errorf("read = %v, want an *Error %d about %q", err, tc.code, tc.want)
			}
			if r.Buffered() != 0 {
				t.Error("a failed Reader still holds a buffer")
			}
		})
	}
}

// Input that ends inside a frame is io.ErrUnexpectedEOF; between messages
// it is io.EOF.
func TestReaderEOF(t *testing.T) {
	whole := frame(0x81, []byte("hello"), true)
	for cut := 1; cut < len(whole); cut++ {
		r, _ := newReader(whole[:cut], false, 1<<20)
		if _, err := readMessage(r); err != io.ErrUnexpectedEOF {
			t.Errorf("cut after %d of %d bytes: %v, want io.ErrUnexpectedEOF", cut, len(whole), err)
		}
	}
	// Between the fragments of a message: the message is cut too.
	r, _ := newReader(frame(0x01, []byte("hel"), true), false, 1<<20)
	if _, err := readMessage(r); err != io.ErrUnexpectedEOF {
		t.Errorf("cut between fragments: %v, want io.ErrUnexpectedEOF", err)
	}
	r, _ = newReader(nil, false, 1<<20)
	if err := r.NextMessage(); err != io.EOF {
		t.Errorf("no input: %v, want io.EOF", err)
	}
}

// Bytes preloaded (read past a handshake) are read first, and a frame
// may continue from them into the connection's input.
func TestReaderPreload(t *testing.T) {
	in := append(frame(0x81, []byte("first"), false), frame(0x81, []byte("second"), false)...)
	cut := len(in) - 4
	r, _ := newReader(in[cut:], true, 1<<20)
	r.Preload(in[:cut])
	if r.Buffered() != cut {
		t.Errorf("Buffered() = %d, want %d", r.Buffered(), cut)
	}
	for _, want := range []string{"first", "second"} {
		if msg, err := readMessage(r); err != nil || string(msg) != want {
			t.Fatalf("message %q, %v; want %q", msg, err, want)
		}
	}
	if r.Buffered() != 0 {
		t.Errorf("Buffered() = %d after everything was read", r.Buffered())
	}
}

// KnownLeft knows the rest of a message only in its last frame.
func TestReaderKnownLeft(t *testing.T) {
	in := append(frame(OpText, []byte("abc"), true), frame(0x80, []byte("defgh"), true)...)
	r, _ := newReader(in, false, 1<<20)
	if err := r.NextMessage(); err != nil {
		t.Fatal(err)
	}
	if _, known := r.KnownLeft(); known {
		t.Error("the rest of a fragmented message known in its first frame")
	}
	buf := make([]byte, 4)
	if n, err := r.Read(buf); n != 3 || err != nil {
		t.Fatalf("Read = %d, %v; want the first frame's 3 bytes", n, err)
	}
	if n, err := r.Read(buf[:1]); n != 1 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if left, known := r.KnownLeft(); !known || left != 4 || !r.InMessage() {
		t.Errorf("KnownLeft = %d, %v; want 4, true", left, known)
	}
	if n, err := r.Read(buf); n != 4 || err != io.EOF || r.InMessage() {
		t.Errorf("Read = %d, %v; want the last 4 bytes and io.EOF", n, err)
	}
}

// Over a real socket a burst of small frames that arrived together is
// read with one system call where the Reader reads ahead (Linux): the
// Handler's BeforeRead runs before the Reader waits, not between the
// frames, and once the burst is read no buffer is held.
func TestReaderReadAheadBurst(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cli, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const n = 40
	var burst []byte
	for i := range n {
		burst = append(burst, frame(0x81, []byte(strings.Repeat("x", i)), true)...)
	}
	if _, err := cli.Write(burst); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // all of it arrived
	h := &recorder{}
	var r Reader
	r.Init(nc, nc.(*net.TCPConn), false, 1<<20, h)
	for i := range n {
		msg, err := readMessage(&r)
		if err != nil || len(msg) != i {
			t.Fatalf("message %d: %d bytes, %v", i, len(msg), err)
		}
		if i == 0 && ReadAhead && r.Buffered() == 0 {
			t.Error("no read-ahead while the burst is read")
		}
	}
	if ReadAhead && h.before != 1 {
		t.Errorf("BeforeRead ran %d times for a burst that arrived at once, want 1", h.before)
	}
	if r.Buffered() != 0 {
		t.Errorf("%d bytes still held after the burst", r.Buffered())
	}
}
