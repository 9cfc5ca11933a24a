package endpoint

import (
	"context"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// TestReceiveRules checks the receiver's answers: 413 beyond MaxMessage,
// no 200 for Failure-Report no, chunks out of order reassembled.
func TestReceiveRules(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	late := make(chan Event, 10)
	a := dial(t, r.TCP, "alice", func(c *Config) {
		c.ChunkSize, c.ChunkTimeout = 1000, time.Second
		c.OnEvent = func(ev Event) {
			if ev.Kind == EventFailureReport {
				late <- ev
			}
		}
	})
	b := dial(t, r.WS, "bob", func(c *Config) { c.MaxMessage = 4000 })
	to := a.PathTo(b.Path())
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		size     int
		fr       string
		report   bool // wait for the outcome at the receiver
		wantCode int
		deliver  bool
	}{
		{"fits", 4000, "", true, 0, true},
		{"too large", 5000, "", true, 413, false},
		{"too large, late REPORT", 5000, "", false, 0, false},
		{"failure report no", 10, "no", false, 0, true},
		{"failure report partial", 10, "partial", false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.SendWith(ctx, to, "text/plain", make([]byte, tc.size), SendOptions{FailureReport: tc.fr, SuccessReport: tc.report})
			lateOK := tc.name == "too large, late REPORT"
			if lateOK && StatusCode(err) == 413 {
				return // the REPORT beat the last 200: no late event then
			}
			if StatusCode(err) != tc.wantCode || (tc.wantCode == 0 && err != nil) {
				t.Fatalf("send: %v, want code %d", err, tc.wantCode)
			}
			if lateOK {
				select {
				case ev := <-late:
					if StatusCode(ev.Err) != 413 {
						t.Errorf("late failure %v, want 413", ev.Err)
					}
				case <-time.After(5 * time.Second):
					t.Error("no late failure REPORT event")
				}
			}
			if tc.deliver {
				if m := next(t, b, 5*time.Second); m.Size != int64(tc.size) {
					t.Errorf("delivered %d bytes, want %d", m.Size, tc.size)
				}
			}
		})
	}
}

// TestOutOfOrderAndBodiless sends chunks last-first and a bodiless SEND
// through the relay by hand: the message is reassembled, the keepalive is
// answered 200 and not delivered.
func TestOutOfOrderAndBodiless(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	a := dial(t, r.TCP, "alice", nil)
	b := dial(t, r.TCP, "bob", nil)
	to := a.PathTo(b.Path())
	c, s, err := a.current()
	if err != nil {
		t.Fatal(err)
	}
	send := func(m *msrp.Message) {
		t.Helper()
		reply, err := a.txnRoundTrip(c, m)
		if err != nil || reply.StatusCode != 200 {
			t.Fatalf("%s: %v %v", m.Method, reply, err)
		}
	}
	chunk := func(br, body string, flag byte) *msrp.Message {
		return &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: msrp.MethodSEND, Flag: flag, Body: []byte(body),
			Headers: []msrp.Header{{Name: "To-Path", Value: to}, {Name: "From-Path", Value: s.uri},
				{Name: "Message-ID", Value: "ooo1"}, {Name: "Byte-Range", Value: br}, {Name: "Content-Type", Value: "text/plain"}}}
	}
	bodiless := &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: msrp.MethodSEND, Flag: '$',
		Headers: []msrp.Header{{Name: "To-Path", Value: to}, {Name: "From-Path", Value: s.uri},
			{Name: "Message-ID", Value: "ka"}, {Name: "Byte-Range", Value: "1-0/0"}}}
	send(chunk("7-11/11", "world", '$'))
	send(bodiless)
	send(chunk("1-6/11", "hello ", '+'))
	if m := next(t, b, 5*time.Second); string(m.Body) != "hello world" || m.ID != "ooo1" {
		t.Fatalf("got %q (%s), want the reassembled message", m.Body, m.ID)
	}
	select {
	case m := <-b.Messages():
		t.Errorf("unexpected delivery %q", m.Body)
	case <-time.After(100 * time.Millisecond):
	}
}
