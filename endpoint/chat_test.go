package endpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/msrpd/msrpd/relay"
)

func TestChat(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	for _, tc := range []struct{ a, b string }{{"ws", "ws"}, {"tcp", "tcp"}, {"ws", "tcp"}} {
		t.Run(tc.a+"-"+tc.b, func(t *testing.T) {
			a := dial(t, r.URL(tc.a), "alice", nil)
			b := dial(t, r.URL(tc.b), "bob", nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			const n = 50
			errc := make(chan error, 1)
			go func() {
				for i := 0; i < n; i++ {
					if err := a.Send(ctx, a.PathTo(b.Path()), "text/plain", fmt.Appendf(nil, "hello %d", i)); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			for i := 0; i < n; i++ {
				m := next(t, b, 5*time.Second)
				if want := fmt.Sprintf("hello %d", i); string(m.Body) != want || m.ContentType != "text/plain" {
					t.Fatalf("message %d: %q (%s), want %q", i, m.Body, m.ContentType, want)
				}
				if m.ToPath != b.URI() {
					t.Errorf("To-Path %q, want %q", m.ToPath, b.URI())
				}
			}
			if err := <-errc; err != nil {
				t.Fatalf("send: %v", err)
			}
			// And back, bodiless and empty included.
			if err := b.Send(ctx, b.PathTo(a.Path()), "text/plain", []byte{}); err != nil {
				t.Fatalf("empty send: %v", err)
			}
			if m := next(t, a, 5*time.Second); len(m.Body) != 0 || m.Size != 0 {
				t.Errorf("empty message: %q", m.Body)
			}
		})
	}
}

// TestLargeFile sends 1 MiB in 2048-byte chunks and checks it arrives
// byte-exact, in memory and spooled to a file.
func TestLargeFile(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	body := make([]byte, 1<<20)
	_, _ = rand.Read(body)
	for _, tc := range []struct {
		name, kind string
		spool      bool
	}{{"ws-memory", "ws", false}, {"tcp-spool", "tcp", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a := dial(t, r.URL(tc.kind), "alice", func(c *Config) { c.Window = 32 })
			b := dial(t, r.URL(tc.kind), "bob", func(c *Config) {
				if tc.spool {
					c.SpoolDir, c.SpoolThreshold = dir, 64<<10
				}
			})
			var chunks int
			err := a.SendWith(context.Background(), a.PathTo(b.Path()), "application/octet-stream", body,
				SendOptions{Progress: func(sent, total int64) { chunks++ }})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if chunks != 512 {
				t.Errorf("%d chunks, want 512", chunks)
			}
			m := next(t, b, 10*time.Second)
			got := m.Body
			if tc.spool {
				if m.File == "" || m.Body != nil {
					t.Fatalf("not spooled: File %q", m.File)
				}
				if got, err = readFile(m.File); err != nil {
					t.Fatal(err)
				}
			}
			if m.Size != int64(len(body)) || !bytes.Equal(got, body) {
				t.Fatalf("body differs: %d bytes, want %d", len(got), len(body))
			}
		})
	}
}

func TestSuccessReport(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	a := dial(t, r.WS, "alice", nil)
	b := dial(t, r.TCP, "bob", nil)
	done := make(chan error, 1)
	a.SendAsync(context.Background(), a.PathTo(b.Path()), "text/plain", []byte("report me"),
		SendOptions{SuccessReport: true, MessageID: "msgid-report-1"}, func(err error) { done <- err })
	m := next(t, b, 5*time.Second)
	if m.ID != "msgid-report-1" {
		t.Errorf("Message-ID %q", m.ID)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("send with report: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no completion")
	}
}

// TestReceiverGone: the peer disappears; the sender gets a failure, not a
// hang.
func TestReceiverGone(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	a := dial(t, r.TCP, "alice", func(c *Config) { c.ChunkTimeout = 2 * time.Second })
	b := dial(t, r.WS, "bob", nil)
	to := a.PathTo(b.Path())
	_ = b.Close()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := a.SendWith(ctx, to, "text/plain", []byte("anyone?"), SendOptions{SuccessReport: true})
	if err == nil {
		t.Fatal("send to a closed peer succeeded")
	}
	if StatusCode(err) == 0 && !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v: want a status code or a timeout", err)
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// TestNewBodyReused: a message is assembled in the buffer Config.NewBody
// gives, whatever that buffer held before.
func TestNewBodyReused(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, "", "", nil)
	body := make([]byte, 300<<10)
	_, _ = rand.Read(body)
	given := bytes.Repeat([]byte{0xee}, len(body)+100) // stale contents
	var asked []int64
	a := dial(t, r.URL("tcp"), "alice", nil)
	b := dial(t, r.URL("ws"), "bob", func(c *Config) {
		c.NewBody = func(size int64) []byte {
			asked = append(asked, size) // the reader goroutine only
			return given
		}
	})
	if err := a.Send(context.Background(), a.PathTo(b.Path()), "application/octet-stream", body); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := next(t, b, 10*time.Second)
	if !bytes.Equal(m.Body, body) {
		t.Fatalf("body differs")
	}
	if &m.Body[0] != &given[0] {
		t.Error("body not assembled in the buffer NewBody gave")
	}
	if len(asked) != 1 || asked[0] != int64(len(body)) {
		t.Errorf("NewBody asked for %v, want one call for %d bytes", asked, len(body))
	}
}

// TestSlowInboxStillAnswered: the receiver batches its 200s until its
// reader next waits for input, but an application that leaves the inbox
// full must not hold back the 200 of the message it has not taken yet,
// or the relay times the chunk out and reports a failure to the sender.
func TestSlowInboxStillAnswered(t *testing.T) {
	checkGoroutines(t)
	const timeout = 300 * time.Millisecond
	r := newTestRelay(t, "", "", func(c *relay.Config) { c.TransactionTimeout = timeout })
	a := dial(t, r.URL("tcp"), "alice", nil)
	b := dial(t, r.URL("tcp"), "bob", nil)
	for i := 0; i < DefaultInboxSize+1; i++ { // one more than the inbox holds
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := a.Send(ctx, a.PathTo(b.Path()), "text/plain", fmt.Appendf(nil, "m%d", i))
		cancel()
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	time.Sleep(3 * timeout) // nobody reads b's inbox meanwhile
	if n := r.Server.Stats().FailuresReported; n != 0 {
		t.Fatalf("relay reported %d failures: the receiver's 200s were held while its inbox was full", n)
	}
	for i := 0; i < DefaultInboxSize+1; i++ {
		if m := next(t, b, 5*time.Second); string(m.Body) != fmt.Sprintf("m%d", i) {
			t.Fatalf("message %d: %q", i, m.Body)
		}
	}
}
