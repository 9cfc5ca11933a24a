package relay

import (
	"slices"
	"sync/atomic"
	"time"
)

// tally is what one connection's reader counted during its current burst
// of chunks (the chunks it handles between two waits for network input).
// Its fields are plain integers that only the reader touches; flush adds
// them to the Server's counters when the reader is about to wait, so a
// busy relay pays a few atomic additions per burst instead of several per
// chunk on cache lines every core writes. Counts therefore reach Stats
// at most one burst late, and exactly once the reader waits.
type tally struct {
	requests            [numMethods]uint32
	respIn, respOut     [numClasses]uint32
	chunksIn, chunksOut uint32
	bytesIn, bytesOut   uint64
	// forwarded counts the chunks forwarded in this burst that began in
	// it: their latency runs from the burst's clock (peer.now) to the
	// flush, which comes after the writes.
	forwarded uint32
}

// flush adds the tally to c and clears it; start is the burst's clock
// (zero when it was never read).
func (t *tally) flush(c *counters, start time.Time) {
	for i, n := range t.requests {
		if n != 0 {
			c.requests[i].Add(uint64(n))
		}
	}
	for i := range numClasses {
		if n := t.respIn[i]; n != 0 {
			c.respIn[i].Add(uint64(n))
		}
		if n := t.respOut[i]; n != 0 {
			c.respOut[i].Add(uint64(n))
		}
	}
	if t.chunksIn != 0 {
		c.chunksIn.Add(uint64(t.chunksIn))
		c.bytesIn.Add(t.bytesIn)
	}
	if t.chunksOut != 0 {
		c.chunksOut.Add(uint64(t.chunksOut))
		c.bytesOut.Add(t.bytesOut)
	}
	if t.forwarded != 0 && !start.IsZero() {
		c.latency.observe(time.Since(start), uint64(t.forwarded))
	}
	*t = tally{}
}

// epoch is where sinceEpoch counts from.
var epoch = time.Now()

// sinceEpoch returns t as monotonic nanoseconds since epoch.
func sinceEpoch(t time.Time) int64 { return int64(t.Sub(epoch)) }

// latencyBounds are the upper bounds of the forwarding-latency histogram's
// buckets: 100 µs to 10 s. A relay on a quiet machine forwards in tens of
// microseconds; the upper buckets catch backpressure and next-hop dials.
var latencyBounds = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Histogram is a snapshot of a latency histogram in the form Prometheus
// exposes: Counts[i] is how many observations were at most Bounds[i]
// (cumulative), Count how many there were in all, Sum their total.
type Histogram struct {
	Bounds []time.Duration
	Counts []uint64
	Count  uint64
	Sum    time.Duration
}

// histogram counts observations into latencyBounds' buckets; the last
// bucket holds what exceeds every bound.
type histogram struct {
	buckets [len(latencyBounds) + 1]atomic.Uint64
	sum     atomic.Int64 // nanoseconds
}

// observe records n observations of d.
func (h *histogram) observe(d time.Duration, n uint64) {
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	h.buckets[i].Add(n)
	h.sum.Add(int64(d) * int64(n))
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: slices.Clone(latencyBounds[:]), Counts: make([]uint64, len(latencyBounds))}
	var cum uint64
	for i := range latencyBounds {
		cum += h.buckets[i].Load()
		out.Counts[i] = cum
	}
	out.Count = cum + h.buckets[len(latencyBounds)].Load()
	out.Sum = time.Duration(h.sum.Load())
	return out
}
