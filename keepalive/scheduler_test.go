package keepalive

import (
	"runtime"
	"testing"
	"time"

	"github.com/pion/logging"
)

func TestSchedulerGoroutineOnlyWhileKeepersRun(t *testing.T) {
	s, err := NewScheduler(Config{Interval: tInterval, Timeout: tTimeout})
	if err != nil {
		t.Fatal(err)
	}
	log := logging.NewDefaultLoggerFactory().NewLogger("keepalive")
	before := runtime.NumGoroutine()
	for round := 0; round < 2; round++ { // the ticker must come back after it left
		var ks []*Keeper
		var links []*fakeLink
		for range 5 {
			f := newFakeLink()
			f.canPing, f.answerPing = true, true
			k, err := New(s, f, log, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.k.Store(k)
			k.Start()
			ks, links = append(ks, k), append(links, f)
		}
		time.Sleep(5 * tInterval)
		for i, f := range links {
			if p, _ := f.counts(); p == 0 {
				t.Errorf("round %d: link %d never pinged", round, i)
			}
		}
		for _, k := range ks {
			k.Stop()
			k.Stop() // idempotent
		}
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d goroutines after every Keeper stopped, %d before", round, runtime.NumGoroutine(), before)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// A peer whose probe write blocks (it stopped reading and the socket
// buffer is full) must not hold up the probes of every other connection.
func TestSchedulerBlockedLinkDoesNotStallOthers(t *testing.T) {
	stuck := newFakeLink()
	stuck.canPing, stuck.block = true, make(chan struct{})
	defer close(stuck.block)

	s, err := NewScheduler(Config{Interval: tInterval, Timeout: tTimeout})
	if err != nil {
		t.Fatal(err)
	}
	log := logging.NewDefaultLoggerFactory().NewLogger("keepalive")
	var links []*fakeLink
	for i := range 50 {
		f := newFakeLink()
		f.canPing, f.answerPing = true, true
		if i == 0 {
			f = stuck
		}
		k, err := New(s, f, log, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			f.k.Store(k)
		}
		k.Start()
		t.Cleanup(k.Stop)
		links = append(links, f)
	}
	time.Sleep(10 * tInterval)
	for i, f := range links[1:] {
		if p, _ := f.counts(); p < 3 {
			t.Errorf("link %d: %d pings in 10 intervals while another link's write blocks, want at least 3", i+1, p)
		}
	}
}
