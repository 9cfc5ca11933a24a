package relay

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// TestReceiverLostWhileChunkRelayed is issue 10's regression test: a
// receiver whose connection ends while a chunk larger than ForwardChunk is
// being relayed to it, once pieces of that chunk went out to it. The relay
// once recursed without end there (abort sent an abort piece to the dead
// hop, whose failure called abort again) and died of a stack overflow.
// Now the chunk ends exactly once: the sender gets failure REPORTs for the
// pieces that went out unanswered and an error response for the chunk,
// the relay logs the failure once, and it keeps serving.
func TestReceiverLostWhileChunkRelayed(t *testing.T) {
	for _, kind := range []string{"ws", "tcp"} {
		t.Run(kind, func(t *testing.T) {
			checkGoroutines(t)
			const fwd = 4 << 10
			r := newTestRelay(t, func(c *Config) { c.ForwardChunk = fwd })
			a := dialRaw(t, r, "tcp")
			a.auth(relayUser, relayPass)
			b := dialRaw(t, r, kind)
			b.auth("bob", "secret-bob")

			const total = 64 << 10
			body := bytes.Repeat([]byte("0123456789abcdef"), total/16)
			id := msrp.NewMessageID()
			m := request("SEND", a.use+" "+b.use+" "+b.uri, a.uri, "Message-ID", id,
				"Byte-Range", fmt.Sprintf("1-%d/%d", total, total), "Content-Type", "application/octet-stream")
			m.Body = body
			head, err := m.AppendHead(nil)
			if err != nil {
				t.Fatal(err)
			}
			// Three pieces' worth: at least two go out to b, which does
			// not answer them.
			if err := a.writeRaw(append(head, body[:3*fwd]...)); err != nil {
				t.Fatal(err)
			}
			got := 0
			for got < 2*fwd {
				fm, err := b.read(5 * time.Second)
				if err != nil {
					t.Fatalf("b read after %d body bytes: %v", got, err)
				}
				got += len(fm.Body)
			}
			b.nc.Close() // b vanishes: no close frame, no FIN handshake

			// The relay fails the pieces b never answered.
			reports := 0
			deadline := time.Now().Add(5 * time.Second)
			for reports == 0 {
				rep, err := a.read(time.Until(deadline))
				if err != nil {
					t.Fatalf("waiting for failure REPORTs: %v", err)
				}
				if rep.Method == msrp.MethodREPORT && rep.MessageID() == id {
					if st, err := rep.Status(); err != nil || st.Code == 200 {
						t.Fatalf("REPORT status %q, want a failure", rep.Header(msrp.HeaderStatus))
					}
					reports++
				}
			}
			// The rest of the chunk arrives after b is gone: the relay
			// forwards nothing more of it and answers the chunk with an
			// error.
			tail := append(append([]byte(nil), body[3*fwd:]...), m.AppendTail(nil)...)
			if err := a.writeRaw(tail); err != nil {
				t.Fatalf("relay stopped reading the sender: %v", err)
			}
			resp, err := a.expectResponse(m.TransactionID, 5*time.Second)
			if err != nil {
				t.Fatalf("no response to the chunk: %v", err)
			}
			if resp.StatusCode == 200 {
				t.Fatalf("chunk to a vanished receiver answered 200")
			}
			t.Logf("%d failure REPORTs, then %d %s for the chunk", reports, resp.StatusCode, resp.Comment)
			// The sender's connection and the relay live on.
			if err := a.alive(); err != nil {
				t.Fatalf("sender's connection after the failure: %v", err)
			}
			c := dialRaw(t, r, kind)
			c.auth("bob", "secret-bob")
			if err := c.alive(); err != nil {
				t.Fatalf("new connection after the failure: %v", err)
			}
			if n := strings.Count(r.logBuf.String(), "next hop"); n > 2 {
				t.Errorf("%d log lines about the failed next hop, want one event, one line:\n%s", n, grepLines(r.logBuf.String(), "next hop"))
			}
		})
	}
}

// TestSenderLostMidChunk: a sender whose connection ends in the middle of
// a chunk larger than ForwardChunk, after pieces of it went out. The
// receiver gets the whole pieces, then a '#' chunk that ends the message,
// and never an empty piece before it.
func TestSenderLostMidChunk(t *testing.T) {
	checkGoroutines(t)
	const fwd = 4 << 10
	r := newTestRelay(t, func(c *Config) { c.ForwardChunk = fwd })
	a := dialRaw(t, r, "tcp")
	a.auth(relayUser, relayPass)
	b := dialClient(t, r.ws, r.wsURI)
	b.auth("bob", "secret-bob")
	recv := startReceiver(b)

	const total = 64 << 10
	body := bytes.Repeat([]byte("0123456789abcdef"), total/16)
	m := request("SEND", a.use+" "+b.use+" "+b.uri, a.uri, "Message-ID", "lost1",
		"Byte-Range", fmt.Sprintf("1-%d/%d", total, total), "Content-Type", "application/octet-stream")
	m.Body = body
	head, err := m.AppendHead(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two pieces and a half, then the sender is gone.
	if err := a.writeRaw(append(head, body[:2*fwd+fwd/2]...)); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return recv.bytes.Load() >= 2*fwd }) {
		t.Fatalf("receiver got %d bytes, want the two whole pieces", recv.bytes.Load())
	}
	a.nc.Close()
	if !waitFor(5*time.Second, func() bool { return recv.flag("lost1") == msrp.FlagAbort }) {
		t.Fatalf("last chunk flag %q, want '#'", recv.flag("lost1"))
	}
	if got := recv.bytes.Load(); got != 2*fwd {
		t.Errorf("receiver got %d body bytes, want %d: only whole pieces leave", got, 2*fwd)
	}
}
