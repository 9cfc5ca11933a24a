package soak

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/keepalive"
)

// These tests kill and restart real msrpd processes, which the relay
// package's in-process tests cannot do.

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	d.cmd.Wait()
}

func openFiles(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// TestRelayRestartClientsReconnect: msrpd is killed and started again on
// the same ports; clients reconnect with backoff, AUTH again, get new
// Use-Paths, and chat over them; nothing leaks in either process.
func TestRelayRestartClientsReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	tcp, ws := freeAddr(t), freeAddr(t)
	args := []string{"--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "soak"}
	d := startDaemon(t, tcp, ws, args...)
	fdsBefore, gorBefore := openFiles(t), runtime.NumGoroutine()

	events := make(chan endpoint.Event, 64)
	dial := func(user, relay string) *endpoint.Endpoint {
		e, err := endpoint.Dial(context.Background(), endpoint.Config{
			Relay: relay, User: user, Password: user + "pw",
			Keepalive:         keepalive.Config{Interval: 200 * time.Millisecond, Timeout: 200 * time.Millisecond},
			ReconnectAttempts: -1, BackoffInitial: 100 * time.Millisecond, BackoffMax: time.Second,
			OnEvent: func(ev endpoint.Event) { events <- ev },
		})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a, b := dial("alice", "ws://"+ws+"/"), dial("bob", "msrp://"+tcp+";tcp")
	chatOnce := func(label string) {
		t.Helper()
		body := []byte("hello " + label)
		if err := a.Send(context.Background(), a.PathTo(b.Path()), "text/plain", body); err != nil {
			t.Fatalf("%s: send: %v", label, err)
		}
		select {
		case m := <-b.Messages():
			if string(m.Body) != string(body) {
				t.Fatalf("%s: got %q", label, m.Body)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: nothing arrived", label)
		}
	}
	chatOnce("before")
	oldA, oldB := a.UsePath(), b.UsePath()

	d.kill()
	d = startDaemon(t, tcp, ws, args...)
	reconnected := 0
	for deadline := time.After(20 * time.Second); reconnected < 2; {
		select {
		case ev := <-events:
			if ev.Kind == endpoint.EventReconnected {
				reconnected++
			}
		case <-deadline:
			t.Fatalf("%d of 2 endpoints reconnected", reconnected)
		}
	}
	if a.UsePath() == oldA || b.UsePath() == oldB {
		t.Errorf("Use-Paths unchanged after the restart: %q %q", a.UsePath(), b.UsePath())
	}
	chatOnce("after")

	a.Close()
	b.Close()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Errorf("%s", what)
				return
			}
		}
	}
	waitFor(fmt.Sprintf("client leaks goroutines: %d before, %d after", gorBefore, runtime.NumGoroutine()),
		func() bool { return runtime.NumGoroutine() <= gorBefore })
	waitFor(fmt.Sprintf("client leaks files: %d before, %d after", fdsBefore, openFiles(t)),
		func() bool { return openFiles(t) <= fdsBefore })
	waitFor("the relay still holds connections after both clients left", func() bool {
		s, err := d.sample(time.Now())
		return err == nil && s.conns == 0
	})
}

// TestChainNextHopKilled: A -> R1 -> R2 -> B with R2 SIGKILLed in the
// middle of a stream of messages that ask for success REPORTs. Every
// message A was told arrived must be at B; every other one must end in an
// explicit failure at A (failure REPORT, error response or report
// timeout): none may hang, none may vanish.
func TestChainNextHopKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	// Both relays are on loopback and talk plain TCP: the outbound policy
	// must admit that.
	args := []string{"--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "soak", "--host", "127.0.0.1",
		"--outbound-allow", "127.0.0.0/8", "--outbound-plain"}
	r1 := startDaemon(t, "127.0.0.1:0", "127.0.0.1:0", args...)
	r2 := startDaemon(t, "127.0.0.1:0", "127.0.0.1:0", args...)
	cfg := func(user, relay string) endpoint.Config {
		return endpoint.Config{Relay: relay, User: user, Password: user + "pw",
			Keepalive: keepalive.Config{Interval: -1}, ChunkTimeout: 3 * time.Second, ReportTimeout: 3 * time.Second,
			ChunkSize: 4096}
	}
	a, err := endpoint.Dial(context.Background(), cfg("alice", "ws://"+r1.ws+"/"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := endpoint.Dial(context.Background(), cfg("bob", "ws://"+r2.ws+"/"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	const total = 300
	var mu sync.Mutex
	got := map[string]bool{}
	go func() {
		for m := range b.Messages() {
			mu.Lock()
			got[m.ID] = true
			mu.Unlock()
		}
	}()
	type result struct {
		id  string
		err error
	}
	results := make(chan result, total)
	body := make([]byte, 8<<10)
	to := a.PathTo(b.Path())
	for i := 0; i < total; i++ {
		if i == total/3 {
			r2.kill() // with the first third still on its way
		}
		id := fmt.Sprintf("msg%04d", i)
		a.SendAsync(context.Background(), to, "application/octet-stream", body,
			endpoint.SendOptions{MessageID: id, SuccessReport: true},
			func(err error) { results <- result{id, err} })
	}
	var confirmed []string
	failed := 0
	for i := 0; i < total; i++ {
		select {
		case r := <-results:
			if r.err == nil {
				confirmed = append(confirmed, r.id)
			} else {
				failed++
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d sends never finished", total-i, total)
		}
	}
	// B sends its success REPORT as it hands the message over, so give
	// its reader a moment before checking.
	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var m []string
		for _, id := range confirmed {
			if !got[id] {
				m = append(m, id)
			}
		}
		return m
	}
	for end := time.Now().Add(3 * time.Second); len(missing()) > 0 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		t.Errorf("%d messages had a success REPORT but never reached B: %v", len(m), m)
	}
	t.Logf("R2 killed after %d of %d messages: %d confirmed delivered, %d failed explicitly, 0 vanished", total/3, total, len(confirmed), failed)
	if len(confirmed) == 0 || failed == 0 {
		t.Errorf("want some messages through before the kill and explicit failures after it; got %d and %d", len(confirmed), failed)
	}
}
