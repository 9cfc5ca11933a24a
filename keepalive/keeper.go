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

// Keeper schedules the probes of one connection. It is idle-based: the
// timer fires Interval after the last traffic, and a probe is sent only if
// nothing moved since. Only inbound traffic proves the peer alive and ends
// a run of probes; outbound traffic merely postpones the next one.
type Keeper struct {
	cfg        *Config
	link       Link
	log        logging.LeveledLogger
	per, total *Counters

	last   atomic.Int64 // monotonic ns of the last traffic either way
	streak atomic.Bool  // probes are outstanding; read without the lock

	mu         sync.Mutex
	timer      *time.Timer
	stopped    bool
	sendMode   bool      // probe with bodiless SENDs from now on
	pingMissed bool      // a Ping went unanswered in this streak
	kind       probeKind // the outstanding probe, probeNone between streaks
	misses     int
	sentAt     int64
	tidBase    string // prefix of our probes' transaction ids
	seq        uint32
}

// New returns a running Keeper for link. cfg must have been through
// WithDefaults and is shared, not copied, so one Config serves every
// connection of a listener. per and total may be nil.
func New(cfg *Config, link Link, log logging.LeveledLogger, per, total *Counters) (*Keeper, error) {
	if link == nil {
		return nil, errNilLink
	}
	if log == nil {
		return nil, errNilLogger
	}
	k := &Keeper{cfg: cfg, link: link, log: log, per: per, total: total}
	k.sendMode = cfg.Mode == ModeSend || !link.CanPing()
	k.last.Store(monoNanos(time.Now()))
	if cfg.Enabled() {
		k.mu.Lock() // fire may run before the assignment is visible otherwise
		k.timer = time.AfterFunc(cfg.Interval, k.fire)
		k.mu.Unlock()
	}
	return k, nil
}

// Received records inbound traffic: it resets the idle clock and ends a
// run of probes, since anything the peer sends proves it alive.
func (k *Keeper) Received() {
	k.last.Store(monoNanos(time.Now()))
	if k.streak.Load() {
		k.mu.Lock()
		k.endStreakLocked()
		k.mu.Unlock()
	}
}

// Sent records outbound traffic: it resets the idle clock only.
func (k *Keeper) Sent() { k.last.Store(monoNanos(time.Now())) }

// Pong records a Pong frame: the answer to our Ping (or an unsolicited
// heartbeat, which proves liveness just the same).
func (k *Keeper) Pong() {
	k.last.Store(monoNanos(time.Now()))
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
	k.last.Store(monoNanos(time.Now()))
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
	if k.timer != nil {
		k.timer.Stop()
	}
	k.mu.Unlock()
}

// SendMode reports whether the Keeper probes with bodiless SENDs.
func (k *Keeper) SendMode() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sendMode
}

func (k *Keeper) endStreakLocked() {
	if !k.streak.Load() || k.stopped {
		return
	}
	k.streak.Store(false)
	k.kind, k.misses, k.pingMissed = probeNone, 0, false
	// Under the lock, so a deadline armed by fire cannot land after this.
	_ = k.link.SetReadDeadline(time.Time{})
	if k.timer != nil {
		k.timer.Reset(k.cfg.Interval)
	}
}

func (k *Keeper) count(e Event) {
	k.per.Add(e)
	k.total.Add(e)
}

// fire runs in the timer's goroutine: it either re-arms for the rest of
// the idle interval, or counts a miss, or sends the next probe.
func (k *Keeper) fire() {
	now := time.Now()
	t := monoNanos(now)
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
	if k.kind == probeNone {
		if idle := time.Duration(t - k.last.Load()); idle < k.cfg.Interval {
			k.timer.Reset(k.cfg.Interval - idle)
			k.mu.Unlock()
			return
		}
		k.streak.Store(true)
		// The read deadline is the kill switch should the timer be late.
		// One Timeout of slack: the timer should always win.
		_ = k.link.SetReadDeadline(now.Add(time.Duration(k.cfg.Misses+1) * k.cfg.Timeout))
	} else {
		if rest := time.Duration(k.sentAt + int64(k.cfg.Timeout) - t); rest > 0 {
			k.timer.Reset(rest) // a stale fire: the probe is still young
			k.mu.Unlock()
			return
		}
		k.misses++
		k.count(Miss)
		if k.kind == probePing {
			k.pingMissed = true
		}
		if k.misses >= k.cfg.Misses {
			k.stopped = true
			k.count(Timeout)
			k.mu.Unlock()
			k.link.CloseDead(strconv.Itoa(k.misses) + " keepalive probes unanswered")
			return
		}
	}
	// Mode auto tries a bodiless SEND right after a missed Ping, and
	// alternates while misses go on, so one round decides the switch.
	kind := probePing
	if k.sendMode || (k.cfg.Mode == ModeAuto && k.kind == probePing) {
		kind = probeSend
	}
	var probe *msrp.Message
	if kind == probeSend {
		probe = k.newProbeLocked()
	}
	first := k.kind == probeNone
	k.kind, k.sentAt = kind, t
	k.timer.Reset(k.cfg.Timeout)
	k.mu.Unlock()

	k.send(kind, probe, first)
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
