package soak

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/keepalive"
)

// Load of the soak, sized for a shared 2-core machine.
const (
	chatPairs   = 10
	chatRate    = 40 // messages per second per pair
	filePairs   = 2
	fileSize    = 256 << 10
	idleClients = 200
	churnEvery  = 100 * time.Millisecond
)

// soakDuration is 60 s by default (the CI run); MSRPD_SOAK_DURATION=10m
// is `make soak`.
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("MSRPD_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("MSRPD_SOAK_DURATION: %v", err)
		}
		return d
	}
	return time.Minute
}

// tally counts what the load did, to prove nothing was lost.
type tally struct {
	sent, received, corrupted, sendErrors atomic.Int64
	filesSent, filesOK, churned           atomic.Int64
	churnSent, churnReceived              atomic.Int64
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}
	total := soakDuration(t)
	// The Go runtime takes a while to settle: its retained heap climbs
	// toward the high-water mark of the heap goal as rarer peaks of the
	// load come by (28.8 to 32.4 MiB over the first half hour of a 1 h
	// soak, flat after; the live heap flat all along). Growth is measured
	// after a warm-up of a sixth of the run, at most 10 minutes, and at
	// least the first minute (or third of a shorter run).
	warmup := max(min(time.Minute, total/3), min(total/6, 10*time.Minute))
	interval := min(10*time.Second, total/12)

	d := startDaemon(t, "127.0.0.1:0", "127.0.0.1:0", "--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "soak",
		"--ping-interval", "1s", "--pong-timeout", "1s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var tl tally
	var wg sync.WaitGroup
	relays := []string{"ws://" + d.ws + "/", "msrp://" + d.tcp + ";tcp"}
	dial := func(user, relay string, interval time.Duration) *endpoint.Endpoint {
		ka := keepalive.Config{Interval: interval, Timeout: time.Second}
		if interval == 0 {
			ka.Interval = -1
		}
		e, err := endpoint.Dial(ctx, endpoint.Config{Relay: relay, User: user, Password: user + "pw", Keepalive: ka})
		if err != nil {
			t.Fatalf("dial %s: %v", relay, err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}

	for i := 0; i < chatPairs; i++ {
		a, b := dial("alice", relays[i%2], 0), dial("bob", relays[0], 0)
		wg.Add(2)
		go func() { defer wg.Done(); chatSender(ctx, a, a.PathTo(b.Path()), &tl) }()
		go func() { defer wg.Done(); chatReceiver(ctx, b, &tl) }()
	}
	for i := 0; i < filePairs; i++ {
		a, b := dial("alice", relays[1], 0), dial("bob", relays[0], 0)
		wg.Add(1)
		go func() { defer wg.Done(); fileLoop(ctx, a, b, &tl) }()
	}
	for i := 0; i < idleClients; i++ {
		dial("bob", relays[i%2], time.Second) // idle, kept alive both ways
	}
	sink := dial("bob", relays[0], 0)
	wg.Add(2)
	go func() { defer wg.Done(); churn(ctx, relays, sink, &tl) }()
	go func() { defer wg.Done(); churnSink(ctx, sink, &tl) }()

	start := time.Now()
	var samples []sample
	var base *sample
	for time.Since(start) < total {
		time.Sleep(interval)
		s, err := d.sample(start)
		if err != nil {
			t.Fatalf("sample: %v", err)
		}
		samples = append(samples, s)
		t.Logf("t=%v rss=%d KiB (heap %d, idle %d, stacks %d) fds=%d goroutines=%d conns=%d sent=%d received=%d files=%d churned=%d",
			s.at, s.rssKiB, s.heapKiB, s.idleKiB, s.stackKiB, s.fds, s.goroutines, s.conns,
			tl.sent.Load(), tl.received.Load(), tl.filesOK.Load(), tl.churned.Load())
		if base == nil && time.Since(start) >= warmup {
			base = &samples[len(samples)-1]
			saveProfile(t, d, "heap-start.pb.gz")
		}
	}
	saveProfile(t, d, "heap-end.pb.gz")
	cancel()
	wg.Wait()

	// Growth after the warm-up: the mean of the last third of the samples
	// against the first sample after the warm-up, so one noisy reading
	// does not decide. And creep: the last third against the middle
	// third, which a slow leak cannot pass whatever the warm-up.
	if base == nil {
		t.Fatal("no sample after the warm-up")
	}
	third := max(1, len(samples)/3)
	tail := samples[len(samples)-third:]
	if mid := samples[max(0, len(samples)-2*third) : len(samples)-third]; len(mid) > 0 {
		var m, e float64
		for _, s := range mid {
			m += float64(s.rssKiB)
		}
		for _, s := range tail {
			e += float64(s.rssKiB)
		}
		m, e = m/float64(len(mid)), e/float64(len(tail))
		creep := (e - m) / m
		t.Logf("RSS: %.0f KiB in the middle third, %.0f in the last (%+.1f%%)", m, e, 100*creep)
		if creep > 0.05 {
			t.Errorf("RSS still creeping: the last third %.1f%% above the middle third (more than 5%%)", 100*creep)
		}
	}
	var rss, fds, gor float64
	for _, s := range tail {
		rss += float64(s.rssKiB)
		fds += float64(s.fds)
		gor += float64(s.goroutines)
	}
	n := float64(len(tail))
	for _, c := range []struct {
		name      string
		base, now float64
	}{
		{"RSS", float64(base.rssKiB), rss / n},
		{"open files", float64(base.fds), fds / n},
		{"goroutines", float64(base.goroutines), gor / n},
	} {
		growth := (c.now - c.base) / c.base
		t.Logf("%s: %.0f after warm-up, %.0f at the end (%+.1f%%)", c.name, c.base, c.now, 100*growth)
		if growth > 0.10 {
			t.Errorf("%s grew by %.1f%% (more than 10%%)", c.name, 100*growth)
		}
	}
	if tl.corrupted.Load() != 0 || tl.sendErrors.Load() != 0 || tl.sent.Load() != tl.received.Load() ||
		tl.filesOK.Load() != tl.filesSent.Load() || tl.churnSent.Load() != tl.churnReceived.Load() {
		t.Errorf("lost or corrupted: sent %d received %d corrupted %d send errors %d, files sent %d intact %d, churn sent %d received %d",
			tl.sent.Load(), tl.received.Load(), tl.corrupted.Load(), tl.sendErrors.Load(), tl.filesSent.Load(), tl.filesOK.Load(),
			tl.churnSent.Load(), tl.churnReceived.Load())
	}
	if errs := d.loggedErrors(); len(errs) > 0 {
		t.Errorf("msrpd logged %d errors, first: %s", len(errs), errs[0])
	}
	t.Logf("held %d chat pairs, %d file pairs, %d idle clients and %d churned clients for %v: %d messages, %d files, 0 lost",
		chatPairs, filePairs, idleClients, tl.churned.Load(), total, tl.received.Load(), tl.filesOK.Load())
}

// chatSender sends numbered messages at chatRate until ctx ends. Each
// Send returns once the relay has answered every chunk.
func chatSender(ctx context.Context, e *endpoint.Endpoint, to string, tl *tally) {
	tick := time.NewTicker(time.Second / chatRate)
	defer tick.Stop()
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		body := chatBody(seq)
		if err := e.Send(context.Background(), to, "text/plain", body); err != nil {
			tl.sendErrors.Add(1)
			continue
		}
		tl.sent.Add(1)
	}
}

// chatBody is a sequence number and a digest of it, so the receiver can
// tell a lost, repeated or damaged message.
func chatBody(seq int) []byte {
	return []byte(fmt.Sprintf("%08d %x", seq, sha256.Sum256([]byte(fmt.Sprint("soak", seq)))))
}

// chatReceiver checks every message arrives once, in order, intact. It
// drains until the messages stop coming after ctx ends.
func chatReceiver(ctx context.Context, e *endpoint.Endpoint, tl *tally) {
	want := 0
	for {
		var m *endpoint.Message
		select {
		case m = <-e.Messages():
		case <-ctx.Done():
			select {
			case m = <-e.Messages():
			case <-time.After(2 * time.Second):
				return
			}
		}
		if m == nil {
			return
		}
		var seq int
		if _, err := fmt.Sscanf(string(m.Body), "%08d", &seq); err != nil || seq != want || !bytes.Equal(m.Body, chatBody(seq)) {
			tl.corrupted.Add(1)
		}
		want = seq + 1
		tl.received.Add(1)
	}
}

// fileLoop sends random files from a to b and checks each arrives whole.
func fileLoop(ctx context.Context, a, b *endpoint.Endpoint, tl *tally) {
	to := a.PathTo(b.Path())
	for ctx.Err() == nil {
		file := make([]byte, fileSize)
		for i := range file {
			file[i] = byte(rand.Uint32())
		}
		if err := a.Send(context.Background(), to, "application/octet-stream", file); err != nil {
			tl.sendErrors.Add(1)
			continue
		}
		tl.filesSent.Add(1)
		select {
		case m := <-b.Messages():
			if m != nil && bytes.Equal(m.Body, file) {
				tl.filesOK.Add(1)
			}
		case <-time.After(30 * time.Second):
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// churn connects, AUTHs, chats and vanishes, over and over: every other
// client drops its socket without a word (no WebSocket close, no FIN
// before the relay has to notice), as a phone going out of coverage does.
func churn(ctx context.Context, relays []string, sink *endpoint.Endpoint, tl *tally) {
	for i := 0; ctx.Err() == nil; i++ {
		time.Sleep(churnEvery)
		relay := relays[i%2]
		if i%4 < 2 {
			e, err := endpoint.Dial(ctx, endpoint.Config{Relay: relay, User: "alice", Password: "alicepw",
				Keepalive: keepalive.Config{Interval: -1}})
			if err != nil {
				if ctx.Err() == nil {
					tl.sendErrors.Add(1)
				}
				continue
			}
			if err := e.Send(ctx, e.PathTo(sink.Path()), "text/plain", []byte("hello from a short life")); err == nil {
				tl.churnSent.Add(1)
			} else if ctx.Err() == nil {
				tl.sendErrors.Add(1)
			}
			e.Close()
		} else if err := vanish(ctx, relay, sink.Path()); err != nil {
			if ctx.Err() == nil {
				tl.sendErrors.Add(1)
			}
			continue
		} else {
			tl.churnSent.Add(1)
		}
		tl.churned.Add(1)
	}
}

// churnSink counts what churned clients sent.
func churnSink(ctx context.Context, e *endpoint.Endpoint, tl *tally) {
	for {
		select {
		case m := <-e.Messages():
			if m == nil {
				return
			}
			tl.churnReceived.Add(1)
		case <-ctx.Done():
			select {
			case m := <-e.Messages():
				if m != nil {
					tl.churnReceived.Add(1)
				}
			case <-time.After(2 * time.Second):
				return
			}
		}
	}
}

// saveProfile saves the daemon's heap profile as name in the directory
// MSRPD_SOAK_PROFILES names, if it is set: the profiles after the warm-up
// and at the end tell what grew (go tool pprof -diff_base).
func saveProfile(t *testing.T, d *daemon, name string) {
	dir := os.Getenv("MSRPD_SOAK_PROFILES")
	if dir == "" {
		return
	}
	if err := d.heapProfile(filepath.Join(dir, name)); err != nil {
		t.Errorf("heap profile: %v", err)
	}
}
