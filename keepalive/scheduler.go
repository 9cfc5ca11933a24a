package keepalive

import (
	"sync"
	"sync/atomic"
	"time"
)

// Scheduler drives the Keepers of every connection that shares one Config
// from a single ticker goroutine, which runs only while it has Keepers.
//
// A timer per connection spreads the probes evenly over time, so each one
// pays for a goroutine wake-up, a timer update and a system call on an
// otherwise sleeping process. Gathering the probes that fall due into one
// pass per tick lets the runtime and the kernel take them in bursts: at
// 10 000 idle WebSocket connections and a 1 s interval this cut the CPU an
// idle process spends on keepalive by more than a quarter (15.7 % to 11.2 %
// of a core in the transport package's BenchmarkIdleWebSocket10k). The
// price is precision: a probe leaves within a tick, an eighth of
// min(Interval, Timeout), of its time.
type Scheduler struct {
	cfg  Config
	tick time.Duration
	// A pass comes every tick, so it takes what falls due before the next
	// pass is half way: a link is due for a probe once idle for
	// idleAfter, a probe missed once unanswered for answerWithin (ns).
	// Probes after an answered probe (the idle case, stamped exactly)
	// leave within half a tick of their time; after other traffic, whose
	// time a pass stamps, up to a tick later.
	idleAfter, answerWithin int64

	mu      sync.Mutex
	keepers []*Keeper     // slot i holds the Keeper whose slot field is i
	quit    chan struct{} // closes the running ticker goroutine; nil when none runs

	free sync.Pool // of *[]action, the due lists of finished passes
}

// maxSenders bounds the goroutines one pass starts to send its probes.
const maxSenders = 8

// probesPerSender is how many due probes make it worth another sender.
const probesPerSender = 256

// NewScheduler returns a Scheduler for connections configured by cfg.
// Zero fields of cfg mean the defaults, as in Config.WithDefaults.
func NewScheduler(cfg Config) (*Scheduler, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	tick := cfg.tick()
	return &Scheduler{cfg: cfg, tick: tick,
		idleAfter: int64(cfg.Interval - tick/2), answerWithin: int64(cfg.Timeout - tick/2)}, nil
}

// Config returns the Scheduler's configuration, defaults filled in.
func (s *Scheduler) Config() Config { return s.cfg }

func (s *Scheduler) add(k *Keeper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.slot = len(s.keepers)
	s.keepers = append(s.keepers, k)
	if s.quit == nil {
		s.quit = make(chan struct{})
		go s.run(s.quit)
	}
}

func (s *Scheduler) remove(k *Keeper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := k.slot
	if i < 0 || i >= len(s.keepers) || s.keepers[i] != k {
		return
	}
	last := len(s.keepers) - 1
	s.keepers[i] = s.keepers[last]
	s.keepers[i].slot = i
	s.keepers[last] = nil
	s.keepers = s.keepers[:last]
	k.slot = -1
	if last == 0 {
		// The ticker goes with the last connection, so an idle process
		// (or a test checking for leaked goroutines) has none.
		close(s.quit)
		s.quit = nil
		s.keepers = nil
	}
}

func (s *Scheduler) run(quit chan struct{}) {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	var snapshot []*Keeper
	var pending []*batch
	for {
		select {
		case <-quit:
			return
		case now := <-t.C:
			pending = helpStuck(pending)
			s.mu.Lock()
			snapshot = append(snapshot[:0], s.keepers...)
			s.mu.Unlock()
			if b := s.pass(snapshot, monoNanos(now)); b != nil {
				pending = append(pending, b)
			}
			clear(snapshot) // hold no closed connection until the next tick
		}
	}
}

// pass checks every Keeper once and starts sending the probes that are
// due; it returns them as a batch, or nil if none was due.
func (s *Scheduler) pass(keepers []*Keeper, now int64) *batch {
	var due []action
	if p, ok := s.free.Get().(*[]action); ok {
		due = (*p)[:0]
	}
	for _, k := range keepers {
		if a := k.check(now); a.kind != probeNone || a.dead != "" {
			due = append(due, a)
		}
	}
	if len(due) == 0 {
		s.free.Put(&due)
		return nil
	}
	b := &batch{due: due, free: &s.free}
	b.left.Store(int64(len(due)))
	for range min(maxSenders, 1+len(due)/probesPerSender) {
		go b.send()
	}
	return b
}

// helpStuck gives every batch of an earlier pass that is still not sent
// one more sender, and returns those batches. A probe write can block, on
// a peer that stopped reading with a full socket buffer, for up to the
// write timeout; this way such a peer delays the probes queued behind it
// by one tick, not by the write timeout, however few senders it had.
func helpStuck(pending []*batch) []*batch {
	open := pending[:0]
	for _, b := range pending {
		if b.next.Load() < int64(len(b.due)) {
			go b.send()
			open = append(open, b)
		}
	}
	clear(pending[len(open):])
	return open
}

// batch is the probes one pass found due, taken in order by its senders.
type batch struct {
	due  []action
	next atomic.Int64 // index of the next probe to take
	left atomic.Int64 // probes not yet done
	free *sync.Pool   // takes due back when the last probe is done
}

func (b *batch) send() {
	for {
		i := b.next.Add(1) - 1
		if i >= int64(len(b.due)) {
			return
		}
		b.due[i].do()
		if b.left.Add(-1) == 0 {
			// Reused, so an idle relay makes no garbage at every tick.
			clear(b.due)
			due := b.due[:0]
			b.free.Put(&due)
			return
		}
	}
}
