package keepalive

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/msrp"
)

// fakeLink records what a Keeper does. answerPing and answerSend make it
// behave like a live peer, answering from another goroutine as a real
// reader would.
type fakeLink struct {
	canPing    bool
	answerPing bool
	answerSend bool
	busy       bool
	block      chan struct{} // SendPing waits for it to close, if set
	k          atomic.Pointer[Keeper]

	mu     sync.Mutex
	pings  int
	sends  []*msrp.Message
	dead   chan time.Time
	closed atomic.Bool
}

func newFakeLink() *fakeLink { return &fakeLink{dead: make(chan time.Time, 1)} }

func (f *fakeLink) CanPing() bool { return f.canPing }
func (f *fakeLink) SendPing() error {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	f.pings++
	f.mu.Unlock()
	if f.answerPing {
		go f.k.Load().Pong()
	}
	return nil
}
func (f *fakeLink) SendProbe(m *msrp.Message) error {
	if f.busy {
		return ErrBusy
	}
	f.mu.Lock()
	f.sends = append(f.sends, m)
	f.mu.Unlock()
	if f.answerSend {
		go f.k.Load().IsProbeResponse(m.Response(481, "Session Does Not Exist"))
	}
	return nil
}
func (f *fakeLink) ProbePaths() (string, string) {
	return "msrp://peer.example:2855/s1;tcp", "msrp://relay.example:2855;tcp"
}
func (f *fakeLink) CloseDead(string) {
	if f.closed.CompareAndSwap(false, true) {
		f.dead <- time.Now()
	}
}
func (f *fakeLink) String() string { return "fake-peer" }

func (f *fakeLink) counts() (pings, sends int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pings, len(f.sends)
}

func startKeeper(t *testing.T, cfg Config, f *fakeLink) (*Keeper, *Counters) {
	t.Helper()
	s, err := NewScheduler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var per Counters
	log := logging.NewDefaultLoggerFactory().NewLogger("keepalive")
	k, err := New(s, f, log, &per, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.k.Store(k)
	k.Start()
	t.Cleanup(k.Stop)
	return k, &per
}

const (
	tInterval = 30 * time.Millisecond
	tTimeout  = 30 * time.Millisecond
)

func TestKeeperProbesByLink(t *testing.T) {
	tests := []struct {
		name       string
		mode       Mode
		canPing    bool
		wantPings  bool
		wantSends  bool
		wantSwitch uint64
	}{
		{"ws auto pings", ModeAuto, true, true, false, 0},
		{"ws frames pings", ModeFrames, true, true, false, 0},
		{"ws send mode sends", ModeSend, true, false, true, 0},
		{"tcp auto sends", ModeAuto, false, false, true, 0},
		{"tcp frames falls back to sends", ModeFrames, false, false, true, 0},
		{"off probes nothing", ModeOff, true, false, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLink()
			f.canPing, f.answerPing, f.answerSend = tc.canPing, true, true
			_, per := startKeeper(t, Config{Interval: tInterval, Timeout: tTimeout, Mode: tc.mode}, f)
			time.Sleep(10 * tInterval)
			pings, sends := f.counts()
			if (pings > 0) != tc.wantPings || (sends > 0) != tc.wantSends {
				t.Fatalf("pings=%d sends=%d, want pings:%v sends:%v", pings, sends, tc.wantPings, tc.wantSends)
			}
			if tc.wantPings || tc.wantSends {
				if n := pings + sends; n < 3 || n > 11 {
					t.Errorf("%d probes in 10 intervals, want 3..11", n)
				}
			}
			st := per.Snapshot()
			if st.Misses != 0 || st.Timeouts != 0 || f.closed.Load() {
				t.Errorf("live peer missed: %+v", st)
			}
			if st.Answers+1 < uint64(pings+sends) {
				t.Errorf("answers %d for %d probes", st.Answers, pings+sends)
			}
		})
	}
}

func TestKeeperTrafficMeansNoProbe(t *testing.T) {
	for _, dir := range []string{"received", "sent"} {
		t.Run(dir, func(t *testing.T) {
			const interval = 80 * time.Millisecond
			// A loaded machine may stretch a sleep past the interval; then
			// a probe is right and the round proves nothing, so it is run
			// again (at most 3 times).
			for round := 1; ; round++ {
				f := newFakeLink()
				f.canPing = true
				k, _ := startKeeper(t, Config{Interval: interval, Timeout: tTimeout}, f)
				var maxGap time.Duration
				last := time.Now()
				for end := last.Add(10 * interval); time.Now().Before(end); {
					if dir == "received" {
						k.Received()
					} else {
						k.Sent()
					}
					now := time.Now()
					maxGap = max(maxGap, now.Sub(last))
					last = now
					time.Sleep(interval / 2)
				}
				k.Stop()
				p, s := f.counts()
				if maxGap >= interval*9/10 && round < 3 {
					t.Logf("round %d: traffic paused for %v (interval %v); again", round, maxGap, interval)
					continue
				}
				if p+s != 0 {
					t.Fatalf("%d pings, %d sends on a busy link (longest pause %v, interval %v), want none", p, s, maxGap, interval)
				}
				return
			}
		})
	}
}

func TestKeeperDeadPeer(t *testing.T) {
	for _, canPing := range []bool{true, false} {
		t.Run(map[bool]string{true: "ws", false: "tcp"}[canPing], func(t *testing.T) {
			f := newFakeLink()
			f.canPing = true
			f.canPing = canPing
			start := time.Now()
			_, per := startKeeper(t, Config{Interval: tInterval, Timeout: tTimeout, Misses: 3}, f)
			select {
			case at := <-f.dead:
				bound := tInterval + 3*tTimeout
				if d := at.Sub(start); d < bound-5*time.Millisecond || d > bound+150*time.Millisecond {
					t.Errorf("closed after %v, want about %v", d, bound)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("dead peer never closed")
			}
			if st := per.Snapshot(); st.Misses != 3 || st.Timeouts != 1 {
				t.Errorf("stats %+v, want 3 misses and 1 timeout", st)
			}
		})
	}
}

func TestKeeperAutoSwitchesToSend(t *testing.T) {
	f := newFakeLink()
	f.canPing, f.answerSend = true, true // ignores Pings
	k, per := startKeeper(t, Config{Interval: tInterval, Timeout: tTimeout}, f)
	time.Sleep(12 * tInterval)
	st := per.Snapshot()
	if st.ModeSwitches != 1 || !k.SendMode() {
		t.Fatalf("mode switches %d, send mode %v; want one switch", st.ModeSwitches, k.SendMode())
	}
	if f.closed.Load() {
		t.Fatal("peer that answers SENDs was closed")
	}
	if pings, sends := f.counts(); pings != 1 || sends < 3 {
		t.Errorf("pings=%d sends=%d, want 1 ping then SENDs", pings, sends)
	}
}

func TestKeeperBusyLinkIsNotProbed(t *testing.T) {
	f := newFakeLink()
	f.busy = true
	_, per := startKeeper(t, Config{Interval: tInterval, Timeout: tTimeout}, f)
	time.Sleep(8 * tInterval)
	if st := per.Snapshot(); st.ProbesSend != 0 || st.Misses != 0 || f.closed.Load() {
		t.Fatalf("busy link: %+v closed=%v", st, f.closed.Load())
	}
}

func TestKeeperIgnoresForeignResponses(t *testing.T) {
	f := newFakeLink()
	k, _ := startKeeper(t, Config{Interval: -1}, f)
	resp := &msrp.Message{TransactionID: "abcd1234", StatusCode: 200}
	if k.IsProbeResponse(resp) {
		t.Fatal("foreign response consumed")
	}
	req := Probe("abcd1234", "msrp://a:1;tcp", "msrp://b:2;tcp")
	if k.IsProbeResponse(req) {
		t.Fatal("request consumed")
	}
}

func TestProbeWireForm(t *testing.T) {
	m := Probe("tid12345", "msrp://peer.example:2855/s;tcp", "msrp://relay.example:2855;tcp")
	b, err := m.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "MSRP tid12345 SEND\r\nTo-Path: msrp://peer.example:2855/s;tcp\r\nFrom-Path: msrp://relay.example:2855;tcp\r\n" +
		"Message-ID: " + m.MessageID() + "\r\nByte-Range: 1-0/0\r\n-------tid12345$\r\n"
	if string(b) != want {
		t.Fatalf("probe =\n%q\nwant\n%q", b, want)
	}
}
