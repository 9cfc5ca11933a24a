package relay

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// chat sends n messages from a to b with a window of outstanding SENDs and
// checks that every one arrives byte-exact and in order, and that a gets a
// 200 for each.
func chat(t *testing.T, a, b *client, n int) {
	t.Helper()
	const window = 32
	to := pathTo(a, b)
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			m := b.next(10 * time.Second)
			want := fmt.Sprintf("message %d from %s", i, a.uri)
			if m.Method != "SEND" || string(m.Body) != want {
				errc <- fmt.Errorf("message %d: %s %q, want SEND %q", i, m.Method, m.Body, want)
				return
			}
			if fp := m.Header("From-Path"); !strings.HasSuffix(fp, " "+a.uri) || !strings.HasPrefix(fp, b.use+" "+a.use) {
				errc <- fmt.Errorf("From-Path %q, want %s %s %s", fp, b.use, a.use, a.uri)
				return
			}
			if m.Header("To-Path") != b.uri {
				errc <- fmt.Errorf("To-Path %q, want %q", m.Header("To-Path"), b.uri)
				return
			}
			b.send(m.Response(200, "OK"))
		}
		errc <- nil
	}()
	sent, acked := 0, 0
	for acked < n {
		for sent < n && sent-acked < window {
			a.sendText(to, []byte(fmt.Sprintf("message %d from %s", sent, a.uri)))
			sent++
		}
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("receiver: %v", err)
			}
			errc <- nil // put it back for the final check
		default:
		}
		r := a.next(10 * time.Second)
		if r.IsRequest() || r.StatusCode != 200 {
			t.Fatalf("sender got %s %d %s, want 200", r.Method, r.StatusCode, r.Comment)
		}
		acked++
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestChatTenThousandMessages(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	for _, tc := range []struct{ name, a, b string }{
		{"ws-ws", "ws", "ws"},
		{"tcp-ws", "tcp", "ws"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dial := func(kind string) *client {
				if kind == "ws" {
					return dialClient(t, r.ws, r.wsURI)
				}
				return dialClient(t, r.tcp, r.uri)
			}
			a, b := dial(tc.a), dial(tc.b)
			a.auth(relayUser, relayPass)
			b.auth("bob", "secret-bob")
			chat(t, a, b, 10000)
		})
	}
}

func TestBodilessSend(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	a, b := dialClient(t, r.ws, r.wsURI), dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")

	t.Run("end to end", func(t *testing.T) {
		// As AG msrplib sends it: no Byte-Range check, Keep-Alive header kept.
		m := request("SEND", pathTo(a, b), a.uri, "Message-ID", "ka1", "Keep-Alive", "yes")
		a.send(m)
		got := b.next(5 * time.Second)
		if got.Body != nil || got.Header("Keep-Alive") != "yes" || got.MessageID() != "ka1" {
			t.Fatalf("got %+v, want a bodiless SEND with Keep-Alive", got)
		}
		if r := a.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("sender got %d, want 200", r.StatusCode)
		}
	})
	t.Run("to the relay", func(t *testing.T) {
		a.send(request("SEND", a.use, a.uri, "Message-ID", "ka2"))
		if r := a.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("got %d, want 200", r.StatusCode)
		}
		a.send(request("SEND", r.wsURI, a.uri, "Message-ID", "ka3"))
		if r := a.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("base URI: got %d, want 200", r.StatusCode)
		}
	})
}

func TestLargeTransferRechunked(t *testing.T) {
	checkGoroutines(t)
	const fwd = 16 << 10
	r := newTestRelay(t, func(c *Config) { c.ForwardChunk = fwd })
	a, b := dialClient(t, r.tcp, r.uri), dialClient(t, r.ws, r.wsURI)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")

	size := 50 << 20
	if testing.Short() {
		size = 4 << 20
	}
	file := make([]byte, size)
	for i := range file {
		file[i] = byte(i*7 + i>>11)
	}
	const chunk = 1 << 20 // far above the forward size: the relay must split
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak := watchHeap()
	done := make(chan hash.Hash)
	go func() {
		got := sha256.New()
		n := 0
		// Until the '$' chunk, which may be an empty one when the
		// end-line reached the relay after the last body bytes.
		for {
			m := b.next(20 * time.Second)
			if len(m.Body) > fwd {
				t.Errorf("WebSocket message with %d body bytes, forward-chunk is %d", len(m.Body), fwd)
			}
			br, _, err := m.ByteRange()
			if err != nil || br.Start != int64(n)+1 || br.End != br.Start+int64(len(m.Body))-1 || br.Total != int64(size) {
				t.Errorf("Byte-Range %q after %d bytes with %d in body", m.Header("Byte-Range"), n, len(m.Body))
			}
			if m.Flag == '$' && br.End != int64(size) || m.Flag != '$' && m.Flag != '+' {
				t.Errorf("flag %c at range %q", m.Flag, m.Header("Byte-Range"))
			}
			got.Write(m.Body)
			n += len(m.Body)
			b.send(m.Response(200, "OK"))
			if m.Flag != '+' {
				break
			}
		}
		done <- got
	}()
	id := msrp.NewMessageID()
	for off := 0; off < size; off += chunk {
		end := min(off+chunk, size)
		m := request("SEND", pathTo(a, b), a.uri, "Message-ID", id,
			"Byte-Range", fmt.Sprintf("%d-%d/%d", off+1, end, size), "Content-Type", "application/octet-stream")
		m.Body = file[off:end]
		if end < size {
			m.Flag = '+'
		}
		a.send(m)
	}
	got := <-done
	want := sha256.Sum256(file)
	if !bytes.Equal(got.Sum(nil), want[:]) {
		t.Fatal("file corrupted on the way")
	}
	// Heap growth beyond the file the test holds: the relay streams, so it
	// stays far below the file's size.
	grown := int64(peak()) - int64(base.HeapAlloc)
	switch {
	case raceEnabled:
		t.Logf("heap bound not checked under the race detector (grew %d MiB)", grown>>20)
	case grown > 16<<20:
		t.Errorf("heap grew by %d MiB while %d MiB flowed", grown>>20, size>>20)
	default:
		t.Logf("heap grew by at most %.1f MiB while %d MiB flowed", float64(grown)/(1<<20), size>>20)
	}
	for i := 0; i < (size+chunk-1)/chunk; i++ {
		if r := a.next(10 * time.Second); r.StatusCode != 200 {
			t.Fatalf("chunk %d: %d, want 200", i, r.StatusCode)
		}
	}
}

// watchHeap samples the live heap (after a GC, so garbage waiting for
// collection does not count) until the returned function is called, which
// returns the peak seen.
func watchHeap() func() uint64 {
	stop := make(chan struct{})
	peakc := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		for {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				peakc <- peak
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(stop); return <-peakc }
}
