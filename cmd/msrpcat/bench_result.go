package main

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/urfave/cli/v2"
)

// benchResult is the JSON object bench prints (the benchmark scripts read
// these keys).
type benchResult struct {
	Relay      string  `json:"relay"`
	Transport  string  `json:"transport"`
	Pairs      int     `json:"pairs"`
	Messages   int64   `json:"messages"`
	Size       int     `json:"size"`
	Chunk      int     `json:"chunk"`
	Window     int     `json:"window"`
	Rate       float64 `json:"rate"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	P999ms     float64 `json:"p999_ms"`
	Lost       int64   `json:"lost"`
	Corrupted  int64   `json:"corrupted"`
	Duplicated int64   `json:"duplicated"`
	Errors     int64   `json:"errors"`
}

// collect stops the receivers (so their counters are final) and sums up.
func collect(c *cli.Context, b *bench, pairs []*pair, start int64) benchResult {
	res := benchResult{
		Relay: firstRelay(c), Transport: transportOf(firstRelay(c)),
		Pairs: len(pairs), Size: b.size, Chunk: c.Int("chunk"), Window: c.Int("window"), Rate: c.Float64("rate"),
	}
	var lat []int64
	var received int64
	end := start
	for _, p := range pairs {
		_ = p.r.Close() // waits for its reader goroutine: p's receive state is final
		res.Messages += p.sent.Load()
		received += p.received.Load()
		res.Corrupted += p.corrupt
		res.Duplicated += p.dups
		res.Errors += p.failed.Load()
		if lost := p.acked.Load() - p.received.Load(); lost > 0 {
			res.Lost += lost
		}
		lat = append(lat, p.latencies...)
		end = max(end, p.lastRecv.Load())
	}
	res.Seconds = float64(end-start) / 1e9
	if res.Seconds > 0 {
		res.MsgsPerSec = round(float64(received)/res.Seconds, 1)
		res.MBPerSec = round(float64(received)*float64(b.size)/res.Seconds/1e6, 2)
	}
	res.Seconds = round(res.Seconds, 3)
	slices.Sort(lat)
	res.P50ms = percentile(lat, 0.50)
	res.P99ms = percentile(lat, 0.99)
	res.P999ms = percentile(lat, 0.999)
	return res
}

// percentile returns the q quantile of sorted nanosecond values in ms.
func percentile(sorted []int64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(math.Ceil(q*float64(len(sorted))))-1)
	return round(float64(sorted[max(i, 0)])/1e6, 3)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func (r benchResult) print(w io.Writer) {
	fmt.Fprintf(w, "relay %s (%s): %d pairs, %d messages of %d bytes, chunk %d, window %d\n",
		r.Relay, r.Transport, r.Pairs, r.Messages, r.Size, r.Chunk, r.Window)
	fmt.Fprintf(w, "%.3f s: %.0f msgs/s, %.2f MB/s\n", r.Seconds, r.MsgsPerSec, r.MBPerSec)
	fmt.Fprintf(w, "latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms\n", r.P50ms, r.P99ms, r.P999ms)
	fmt.Fprintf(w, "lost %d, corrupted %d, duplicated %d, errors %d\n", r.Lost, r.Corrupted, r.Duplicated, r.Errors)
}
