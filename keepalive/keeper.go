package keepalive

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/msrp"
)

type probeKind uint8

const (
	probeNone probeKind = iota
	probePing
	probeSend
)

// Keeper watches the traffic of one connection and probes it when idle.
// Its Scheduler checks it every tick: a probe is sent only if nothing moved
// for Interval. Only inbound traffic proves the peer alive and ends a run
// of probes; outbound traffic merely postpones the next one.
type Keeper struct {
	sched      *Scheduler
	cfg        *Config // &sched.cfg, shorter to write
	link       Link
	log        logging.LeveledLogger
	per, total *Counters
	slot       int // index in the Scheduler's list, guarded by its lock

	last   atomic.Int64 // monotonic ns of the pass that saw the last traffic
	moved  atomic.Bool  // traffic since the last pass, which stamps last
	streak atomic.Bool  // probes are outstanding; read without the lock
	sentAt atomic.Int64 // monotonic ns the outstanding probe was sent

	mu         sync.Mutex
	stopped    bool
	sendMode   bool      // probe with bodiless SENDs from now on
	pingMissed bool      // a Ping went unanswered in this streak
	kind       probeKind // the outstanding probe, probeNone between streaks
	misses     int
	tidBase    string // prefix of our probes' transaction ids
	seq        uint32
}

// New returns a Keeper for link, driven by s once Start is called. per and
// total may be nil.
func New(s *Scheduler, link Link, log logging.LeveledLogger, per, total *Counters) (*Keeper, error) {
	switch {
	case s == nil:
		return nil, errNilScheduler
	case link == nil:
		return nil, errNilLink
	case log == nil:
		return nil, errNilLogger
	}
	k := &Keeper{sched: s, cfg: &s.cfg, link: link, log: log, per: per, total: total, slot: -1}
	k.sendMode = s.cfg.Mode == ModeSend || !link.CanPing()
	k.last.Store(monoNanos(time.Now()))
	return k, nil
}

// Start begins probing. From then on the Scheduler's goroutines call the
// Link's methods, so the caller starts k only once it has stored k where
// those methods find it (a Conn closing from CloseDead stops its Keeper).
// Starting a stopped Keeper does nothing.
func (k *Keeper) Start() {
	k.mu.Lock() // held across add, so a concurrent Stop removes it after
	defer k.mu.Unlock()
	if !k.stopped && k.cfg.Enabled() {
		k.sched.add(k)
	}
}

// Received records inbound traffic: it resets the idle clock and ends a
// run of probes, since anything the peer sends proves it alive.
func (k *Keeper) Received() {
	k.touch()
	if k.streak.Load() {
		k.mu.Lock()
		k.endStreakLocked()
		k.mu.Unlock()
	}
}

// stampLocked sets the idle clock to now exactly. Answers to probes use
// it rather than touch: they are rare, and the next probe should leave
// one Interval after the answer, not after the pass that would notice it.
func (k *Keeper) stampLocked() {
	k.moved.Store(false)
	k.last.Store(monoNanos(time.Now()))
}

// Sent records outbound traffic: it resets the idle clock only.
func (k *Keeper) Sent() { k.touch() }

// touch notes traffic for the next Scheduler pass to stamp. Reading the
// clock for every chunk in and out was 3 % of a busy relay's CPU; the
// pass reads it anyway, and a tick is all the precision probing needs.
func (k *Keeper) touch() {
	if !k.moved.Load() { // a load is cheaper than a store on a busy link
		k.moved.Store(true)
	}
}

// Pong records a Pong frame: the answer to our Ping (or an unsolicited
// heartbeat, which proves liveness just the same).
func (k *Keeper) Pong() {
	k.touch()
	if k.streak.Load() {
		k.mu.Lock()
		if k.kind != probeNone {
			k.count(Answer)
		}
		k.endStreakLocked()
		k.mu.Unlock()
	}
}

// IsProbeResponse reports whether m is a response to one of our bodiless
// SEND probes. Such a response is consumed: it proves liveness and must
// not be passed to the layer above. In mode auto, the first answered SEND
// after an unanswered Ping switches the connection to SEND probing.
func (k *Keeper) IsProbeResponse(m *msrp.Message) bool {
	if m == nil || m.Method != "" {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tidBase == "" || !strings.HasPrefix(m.TransactionID, k.tidBase) {
		return false
	}
	k.stampLocked()
	if k.kind != probeNone {
		k.count(Answer)
	}
	if !k.sendMode && k.pingMissed && k.cfg.Mode == ModeAuto {
		k.sendMode = true
		k.count(ModeSwitch)
		k.log.Infof("peer %s answers bodiless SEND but not Ping frames: switching to bodiless SEND keepalive", k.link)
	}
	k.endStreakLocked()
	return true
}

// Stop stops probing; the connection is closing. It is idempotent.
func (k *Keeper) Stop() {
	k.mu.Lock()
	k.stopped = true
	k.mu.Unlock()
	k.sched.remove(k)
}

// SendMode reports whether the Keeper probes with bodiless SENDs.
func (k *Keeper) SendMode() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sendMode
}

// State is a Keeper's probing state at one moment, for operators.
type State struct {
	// Mode is how the peer is probed: "frames" (Ping frames), "send"
	// (bodiless SENDs), or "off" when probing is disabled.
	Mode string
	// Probing is set while a probe is outstanding.
	Probing bool
	// Misses counts the probes of the current run that went unanswered.
	Misses int
}

// State returns the Keeper's probing state.
func (k *Keeper) State() State {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := State{Mode: "frames", Probing: k.kind != probeNone, Misses: k.misses}
	switch {
	case !k.cfg.Enabled():
		st.Mode = "off"
	case k.sendMode:
		st.Mode = "send"
	}
	return st
}

func (k *Keeper) endStreakLocked() {
	if !k.streak.Load() || k.stopped {
		return
	}
	k.stampLocked()
	k.streak.Store(false)
	k.kind, k.misses, k.pingMissed = probeNone, 0, false
}

func (k *Keeper) count(e Event) {
	k.per.Add(e)
	k.total.Add(e)
}

// action is what a Scheduler pass decided for one Keeper: a probe to send
// or a dead peer to close, done outside every lock.
type action struct {
	k     *Keeper
	kind  probeKind
	probe *msrp.Message // the bodiless SEND, for probeSend
	first bool          // the first probe of a streak
	dead  string        // close the link with this detail
}

func (a action) do() {
	if a.dead != "" {
		a.k.link.CloseDead(a.dead)
		return
	}
	// The answer is due Timeout after the probe leaves, not after the
	// pass that queued it.
	a.k.sentAt.Store(monoNanos(time.Now()))
	a.k.send(a.kind, a.probe, a.first)
}

// check runs in a Scheduler pass at monotonic time now: it decides whether
// the link is due for a probe, has missed one, or is dead.
func (k *Keeper) check(now int64) action {
	if k.moved.Load() && k.moved.Swap(false) {
		k.last.Store(now) // the traffic came within the tick before now
	}
	interval, timeout := k.sched.idleAfter, k.sched.answerWithin
	if k.streak.Load() {
		if now-k.sentAt.Load() < timeout { // a peek, confirmed below
			return action{}
		}
	} else if now-k.last.Load() < interval {
		return action{}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return action{}
	}
	if k.kind == probeNone {
		if now-k.last.Load() < interval {
			return action{}
		}
		k.streak.Store(true)
	} else {
		if now-k.sentAt.Load() < timeout {
			return action{}
		}
		k.misses++
		k.count(Miss)
		if k.kind == probePing {
			k.pingMissed = true
		}
		if k.misses >= k.cfg.Misses {
			k.stopped = true
			k.count(Timeout)
			return action{k: k, dead: strconv.Itoa(k.misses) + " keepalive probes unanswered"}
		}
	}
	// Mode auto tries a bodiless SEND right after a missed Ping, and
	// alternates while misses go on, so one round decides the switch.
	a := action{k: k, kind: probePing, first: k.kind == probeNone}
	if k.sendMode || (k.cfg.Mode == ModeAuto && k.kind == probePing) {
		a.kind = probeSend
		a.probe = k.newProbeLocked()
	}
	k.kind = a.kind
	k.sentAt.Store(now)
	return a
}

func (k *Keeper) send(kind probeKind, probe *msrp.Message, first bool) {
	var err error
	if kind == probeSend {
		err = k.link.SendProbe(probe)
	} else {
		err = k.link.SendPing()
	}
	switch {
	case err == nil && kind == probeSend:
		k.count(ProbeSend)
	case err == nil:
		k.count(ProbeFrames)
	case errors.Is(err, ErrBusy) && first:
		// A write is in progress, so the link is not idle after all.
		k.mu.Lock()
		k.endStreakLocked()
		k.mu.Unlock()
	default:
		// The outstanding probe will count as a miss; a broken link is
		// closed by its reader or writer meanwhile.
		k.log.Debugf("keepalive probe to %s: %v", k.link, err)
	}
}

func (k *Keeper) newProbeLocked() *msrp.Message {
	if k.tidBase == "" {
		k.tidBase = msrp.NewTransactionID()[:12]
	}
	k.seq++
	to, from := k.link.ProbePaths()
	return Probe(k.tidBase+strconv.FormatUint(uint64(k.seq), 32), to, from)
}
