package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// shortReader returns what r holds in reads of 1 to max bytes, as a
// socket may.
type shortReader struct {
	r   io.Reader
	rnd *rand.Rand
	max int
}

func (s *shortReader) Read(p []byte) (int, error) {
	if n := 1 + s.rnd.IntN(s.max); len(p) > n {
		p = p[:n]
	}
	return s.r.Read(p)
}

// streamConn is a server-side WebSocket Conn reading in, a byte stream
// of frames, through short reads.
func streamConn(t *testing.T, cfg Config, in []byte, rnd *rand.Rand, maxRead int) *Conn {
	t.Helper()
	cfg.Keepalive = keepalive.Config{Interval: -1}
	cfg.LoggerFactory = &logging.DefaultLoggerFactory{Writer: io.Discard}
	nc := readerConn{fuzzConn: &fuzzConn{}, r: &shortReader{r: bytes.NewReader(in), rnd: rnd, max: maxRead}}
	c, err := newHost(t, cfg).newConn(KindWS, nc, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ReasonLocal, "test over") })
	return c
}

// readerConn is a fuzzConn whose input comes from any reader.
type readerConn struct {
	*fuzzConn
	r io.Reader
}

func (c readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// fragments splits payload into a message of frames at random places,
// with Pings between some of them.
func fragments(payload []byte, rnd *rand.Rand, parts int) []byte {
	var cuts []int
	for i := 1; i < parts; i++ {
		cuts = append(cuts, rnd.IntN(len(payload)+1))
	}
	cuts = append(cuts, len(payload))
	var out []byte
	from, op := 0, byte(ws.OpText)
	for i, cut := range cuts {
		cut = max(cut, from)
		b0 := op
		if i == len(cuts)-1 {
			b0 |= 0x80
		}
		out = append(out, wsFrame(b0, payload[from:cut], true)...)
		if rnd.IntN(3) == 0 {
			out = append(out, wsFrame(0x80|ws.OpPing, []byte("p"), true)...)
		}
		from, op = cut, ws.OpContinuation
	}
	return out
}

// readChunk reads the pieces of one chunk and checks how they were cut:
// no piece over PieceSize, offsets in order, only the last one Last and
// never empty unless the whole body is.
func readChunk(t *testing.T, c *Conn) (tid string, body []byte, flag byte, err error) {
	t.Helper()
	for n := 0; ; n++ {
		f, rerr := c.Read()
		if rerr != nil {
			t.Fatalf("Read: %v", rerr)
		}
		if f.Err != nil {
			return f.Msg.TransactionID, nil, 0, f.Err
		}
		if len(f.Msg.Body) > c.h.cfg.PieceSize || f.Offset != int64(len(body)) {
			t.Fatalf("piece %d: %d bytes at offset %d after %d bytes (piece size %d)",
				n, len(f.Msg.Body), f.Offset, len(body), c.h.cfg.PieceSize)
		}
		if f.Last && len(f.Msg.Body) == 0 && len(body) > 0 {
			t.Fatalf("empty last piece after %d bytes", len(body))
		}
		if !f.Last && len(f.Msg.Body) < c.h.cfg.PieceSize {
			t.Fatalf("piece %d of %d bytes before the last, want %d", n, len(f.Msg.Body), c.h.cfg.PieceSize)
		}
		body = append(body, f.Msg.Body...)
		if f.Last {
			return f.Msg.TransactionID, body, f.Msg.Flag, nil
		}
	}
}

// Chunks are parsed from WebSocket payloads as they arrive, whatever the
// frames and the reads cut them into: every body comes out whole, in
// pieces of PieceSize with a non-empty last one, and the checks of RFC
// 7977 (one chunk per message) still hold.
func TestWSStreamedChunks(t *testing.T) {
	const piece = 64
	// Bodies with what looks like end-lines: of other transactions, cut
	// short, with a bad flag, and CRLFs at every place near the end.
	bodies := []string{
		"",
		"x",
		strings.Repeat("a", piece),
		strings.Repeat("b", piece+1),
		strings.Repeat("c", 5*piece+7),
		"\r\n-------other000$\r\n" + strings.Repeat("d", 200),
		strings.Repeat("e", 150) + "\r\n-------strm00",
		strings.Repeat("f", 130) + "\r\n-------strm0001!",
		"\r\n\r\n-------\r\n" + strings.Repeat("g", 3*piece),
	}
	for seed := range uint64(40) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		var in []byte
		type want struct {
			tid, body string
			flag      byte
			code      int
		}
		var wants []want
		for i, body := range bodies {
			tid := fmt.Sprintf("strm%04d", i+1)
			m := sendReq(tid, body)
			m.Flag = "$+#"[rnd.IntN(3)]
			if body == "" {
				m.Body = []byte{}
				m.Headers = append(m.Headers, msrp.Header{Name: msrp.HeaderContentType, Value: "text/plain"})
			}
			chunk := mustWire(m)
			switch rnd.IntN(4) {
			case 0:
				chunk = chunk[:len(chunk)-2] // no CRLF after the end-line
			case 1:
				// One chunk per message: another after the end-line is
				// refused.
				chunk = append(chunk, mustWire(sendReq("second01", "y"))...)
				wants = append(wants, want{tid: tid, code: 400})
				in = append(in, fragments(chunk, rnd, 1+rnd.IntN(4))...)
				continue
			case 2:
				// Cut before the end-line: refused.
				chunk = chunk[:len(chunk)-len("-------")-len(tid)-3]
				wants = append(wants, want{tid: tid, code: 400})
				in = append(in, fragments(chunk, rnd, 1+rnd.IntN(4))...)
				continue
			}
			wants = append(wants, want{tid: tid, body: body, flag: m.Flag})
			in = append(in, fragments(chunk, rnd, 1+rnd.IntN(4))...)
		}
		c := streamConn(t, Config{PieceSize: piece, MaxHeader: 256}, in, rnd, 1+rnd.IntN(300))
		for _, w := range wants {
			tid, body, flag, err := readChunk(t, c)
			var pe *msrp.ParseError
			switch {
			case w.code != 0 && (!errors.As(err, &pe) || pe.Code != w.code || tid != w.tid):
				t.Fatalf("seed %d: %s gave %v, want %d", seed, tid, err, w.code)
			case w.code == 0 && err != nil:
				t.Fatalf("seed %d: %s: %v", seed, w.tid, err)
			case w.code == 0 && (tid != w.tid || string(body) != w.body || flag != w.flag):
				t.Fatalf("seed %d: got %s %q %c, want %s %q %c", seed, tid, body, flag, w.tid, w.body, w.flag)
			}
		}
		if _, err := c.Read(); !IsClosed(err) || c.Reason() != ReasonPeerClosed {
			t.Fatalf("seed %d: at the end %v (%v), want peer-closed", seed, err, c.Reason())
		}
	}
}
