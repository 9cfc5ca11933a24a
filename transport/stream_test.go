package transport

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
)

func TestStreamPiecesAndLimits(t *testing.T) {
	leakCheck(t)
	frames := make(chan Frame, 64)
	addr := startStream(t, Config{PieceSize: 1000, MaxChunk: 5000}, holdHandler(nil, false, frames))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	big := strings.Repeat("x", 3500)
	var in []byte
	in = append(in, wire(t, sendReq("strm0001", big))...)
	in = append(in, wire(t, sendReq("strm0002", strings.Repeat("y", 6000)))...)
	in = append(in, wire(t, sendReq("strm0003", ""))...)
	if _, err := nc.Write(in); err != nil {
		t.Fatal(err)
	}
	next := func() Frame {
		select {
		case f := <-frames:
			return f
		case <-time.After(2 * time.Second):
			t.Fatal("no frame")
			return Frame{}
		}
	}
	var body bytes.Buffer
	for {
		f := next()
		if f.Msg.TransactionID != "strm0001" || f.Offset != int64(body.Len()) || len(f.Msg.Body) > 1000 {
			t.Fatalf("piece tid %s offset %d len %d", f.Msg.TransactionID, f.Offset, len(f.Msg.Body))
		}
		body.Write(f.Msg.Body)
		if f.Last {
			break
		}
	}
	if body.String() != big {
		t.Fatalf("body of %d bytes, want %d", body.Len(), len(big))
	}
	var pe *msrp.ParseError
	for {
		f := next()
		if f.Err != nil {
			if !errors.As(f.Err, &pe) || pe.Code != 413 || f.Msg.TransactionID != "strm0002" || !f.Last {
				t.Fatalf("oversize chunk: %v", f.Err)
			}
			break
		}
	}
	if f := next(); f.Msg.TransactionID != "strm0003" || f.Msg.Body != nil || !f.Last {
		t.Fatalf("bodiless after oversize: tid %s body %v", f.Msg.TransactionID, f.Msg.Body)
	}
}

// A peer that never reads: Send blocks (backpressure), then fails after
// WriteTimeout and the connection closes as a slow consumer.
func TestSlowConsumer(t *testing.T) {
	leakCheck(t)
	got := make(serverConns, 1)
	var logs logBuffer
	cfg := Config{WriteTimeout: 100 * time.Millisecond, LoggerFactory: testLogger(&logs),
		Keepalive: keepalive.Config{Interval: -1}}
	h := newHost(t, cfg)
	addr := serveStream(t, h, holdHandler(got, false, nil))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := waitConn(t, got)
	chunk := sendReq("slow0001", strings.Repeat("z", 4<<20))
	start := time.Now()
	var sendErr error
	for i := 0; i < 20 && sendErr == nil; i++ {
		sendErr = c.Send(chunk)
	}
	if sendErr == nil || !IsClosed(sendErr) {
		t.Fatalf("Send to a non-reader: %v, want a closed error", sendErr)
	}
	if d := time.Since(start); d < cfg.WriteTimeout {
		t.Errorf("failed after %v, before WriteTimeout", d)
	}
	var ce *CloseError
	if !errors.As(sendErr, &ce) || ce.Reason != ReasonSlowConsumer || c.Reason() != ReasonSlowConsumer {
		t.Fatalf("reason %v (%v)", c.Reason(), sendErr)
	}
	if n := h.Stats().Closed[ReasonSlowConsumer]; n != 1 {
		t.Errorf("close counters %v", h.Stats().Closed)
	}
	if err := c.Send(sendReq("slow0002", "")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after close: %v", err)
	}
	waitLog(t, &logs, "closed tcp connection with "+nc.LocalAddr().String()+": slow-consumer")
}

// Each close is logged once, with the peer and the reason, and counted.
func TestCloseLoggedOnce(t *testing.T) {
	leakCheck(t)
	got := make(serverConns, 1)
	var logs logBuffer
	h := newHost(t, Config{LoggerFactory: testLogger(&logs)})
	addr := serveStream(t, h, holdHandler(got, false, nil))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := waitConn(t, got)
	for i := 0; i < 3; i++ {
		_ = c.Close(ReasonPolicy, "not addressed to us")
	}
	_ = c.Close(ReasonShutdown, "later reasons lose")
	want := "closed tcp connection with " + nc.LocalAddr().String() + ": policy (not addressed to us)"
	waitLog(t, &logs, want)
	if n := strings.Count(logs.String(), "closed tcp connection"); n != 1 {
		t.Errorf("%d close lines:\n%s", n, logs.String())
	}
	if closed := h.Stats().Closed; c.Reason() != ReasonPolicy || closed[ReasonPolicy] != 1 || len(closed) != 1 {
		t.Errorf("reason %v counts %v", c.Reason(), closed)
	}
	if _, err := c.Read(); !IsClosed(err) {
		t.Errorf("Read after close: %v", err)
	}
}

func TestCloseReasonStrings(t *testing.T) {
	seen := map[string]bool{}
	for r := ReasonNone; r < numReasons; r++ {
		s := r.String()
		if s == "unknown" || seen[s] {
			t.Errorf("reason %d: %q", r, s)
		}
		seen[s] = true
	}
	if KindWSS.String() != "wss" || !KindWS.IsWebSocket() || KindTLS.IsWebSocket() {
		t.Error("kind strings")
	}
}
