package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
	"github.com/msrpd/msrpd/transport"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "load generator: K pairs of endpoints on one relay, A sends N messages of S bytes to B",
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "user2", Required: true, Usage: "credentials `NAME:PASSWORD` of the receiving endpoints", Action: userAction("user2")},
			&cli.GenericFlag{Name: "pairs", Value: &cliflag.Int{N: 1, Min: 1}, Usage: "`K` sender/receiver pairs (2K connections)"},
			&cli.GenericFlag{Name: "messages", Value: &cliflag.Int{N: 10000, Min: 1}, Usage: "`N` messages per pair (ignored with --duration)"},
			&cli.GenericFlag{Name: "duration", Value: &cliflag.Duration{}, Usage: "send for this long (`DURATION`) instead of --messages"},
			&cli.GenericFlag{Name: "size", Value: &cliflag.Size{N: 200, Min: headerLen}, Usage: "message `SIZE` in bytes (at least 24)"},
			&cli.GenericFlag{Name: "chunk", Value: &cliflag.Size{N: endpoint.DefaultChunkSize}, Usage: "chunk `SIZE` in bytes"},
			&cli.GenericFlag{Name: "window", Value: &cliflag.Int{N: 32, Min: 1}, Usage: "`N` SEND chunks awaiting their 200 per pair"},
			&cli.GenericFlag{Name: "rate", Value: &cliflag.Float{}, Usage: "total messages/s (`RATE`) over all pairs; 0 = as fast as possible"},
			&cli.GenericFlag{Name: "connect-parallel", Value: &cliflag.Int{N: 32, Min: 1}, Usage: "`N` connections set up at once"},
			&cli.GenericFlag{Name: "drain-timeout", Value: &cliflag.Duration{D: 10 * time.Second}, Usage: "how long (`DURATION`) to wait for messages still on their way after the last 200"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object on stdout"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write the client's CPU profile to `FILE` (go tool pprof)"},
		),
		Action: runBench,
	}
}

// bench is one run.
type bench struct {
	size      int
	filler    []byte // random bytes the payloads are cut from
	epoch     time.Time
	transport *transport.Host // every endpoint's

	errMu  sync.Mutex
	errN   int
	errOut int
}

// now is nanoseconds on the monotonic clock since the run began.
func (b *bench) now() int64 { return int64(time.Since(b.epoch)) }

// noteError prints the first few send errors.
func (b *bench) noteError(pairIdx int, err error) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	b.errN++
	if b.errOut < 5 {
		b.errOut++
		fmt.Fprintf(os.Stderr, "msrpcat: bench pair %d: %v\n", pairIdx, err)
	}
}

func runBench(c *cli.Context) error {
	ctx, cancel := signalContext(c.Context)
	defer cancel()
	k, n, size, window := c.Int("pairs"), int64(c.Int("messages")), c.Int("size"), c.Int("window")
	dur := c.Duration("duration")
	if dur > 0 {
		n = 0
	}
	b := &bench{size: size, filler: make([]byte, size+64<<10), epoch: time.Now()}
	_, _ = rand.Read(b.filler)

	var profile *os.File
	if name := c.String("cpuprofile"); name != "" {
		// Created before connecting, so a bad name fails at once; the
		// profile covers the sending only.
		f, err := os.Create(name)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		profile = f
	}
	// One transport Host for all 2K endpoints: one keepalive Scheduler
	// probes every connection.
	cfg, err := endpointConfig(c, "user")
	if err != nil {
		return err
	}
	if b.transport, err = endpoint.NewTransport(cfg); err != nil {
		return err
	}
	defer b.transport.Close()
	pairs, err := connectPairs(ctx, c, b, k, window)
	defer closePairs(pairs)
	if err != nil {
		return err
	}
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var interval time.Duration
	if r := c.Float64("rate"); r > 0 {
		interval = time.Duration(float64(time.Second) * float64(k) / r)
	}
	start := b.now()
	var until time.Time
	if dur > 0 {
		until = time.Now().Add(dur)
	}
	var wg sync.WaitGroup
	for _, p := range pairs {
		wg.Add(1)
		go func() { defer wg.Done(); p.run(ctx, n, until, interval) }()
	}
	wg.Wait()
	for _, p := range pairs {
		p.inFly.Wait()
	}
	drain(pairs, c.Duration("drain-timeout"))
	res := collect(c, b, pairs, start)
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		res.print(os.Stdout)
	}
	if res.Lost > 0 || res.Corrupted > 0 || res.Errors > 0 || res.Duplicated > 0 {
		return exitError{code: 1}
	}
	return nil
}

// connectPairs dials 2K endpoints, connectParallel at a time.
func connectPairs(ctx context.Context, c *cli.Context, b *bench, k, window int) ([]*pair, error) {
	cfgA, err := endpointConfig(c, "user")
	if err != nil {
		return nil, err
	}
	cfgB, err := endpointConfig(c, "user2")
	if err != nil {
		return nil, err
	}
	cfgA.ReconnectAttempts, cfgB.ReconnectAttempts = 0, 0
	cfgA.Transport, cfgB.Transport = b.transport, b.transport
	cfgA.ChunkSize, cfgA.Window = c.Int("chunk"), window
	pairs := make([]*pair, k)
	sem := make(chan struct{}, c.Int("connect-parallel"))
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	var failed atomic.Bool
	for i := range pairs {
		p := &pair{idx: i, b: b, free: make(chan []byte, window+2)}
		for j := 0; j < window+2; j++ {
			p.free <- make([]byte, b.size)
		}
		pairs[i] = p
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if failed.Load() {
				return
			}
			err := p.connect(ctx, c, cfgA, cfgB)
			if err != nil && failed.CompareAndSwap(false, true) {
				mu.Lock()
				firstErr = fmt.Errorf("pair %d: %w", p.idx, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return pairs, firstErr
}

// connect dials the pair's receiver with cfgB and its sender with cfgA.
func (p *pair) connect(ctx context.Context, c *cli.Context, cfgA, cfgB endpoint.Config) error {
	cfgB.OnMessage, cfgB.NewBody = p.receive, p.newBody
	var err error
	if p.r, err = dial(ctx, c, cfgB); err != nil {
		return err
	}
	if p.a, err = dial(ctx, c, cfgA); err != nil {
		return err
	}
	p.to = p.a.PathTo(p.r.Path())
	return nil
}

func closePairs(pairs []*pair) {
	var wg sync.WaitGroup
	for _, p := range pairs {
		if p == nil {
			continue
		}
		for _, e := range []*endpoint.Endpoint{p.a, p.r} {
			if e != nil {
				wg.Add(1)
				go func() { defer wg.Done(); _ = e.Close() }()
			}
		}
	}
	wg.Wait()
}

// drain waits until every acknowledged message arrived, or timeout.
func drain(pairs []*pair, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		missing := false
		for _, p := range pairs {
			if p.received.Load() < p.acked.Load() {
				missing = true
				break
			}
		}
		if !missing {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// transportOf names the relay URL's transport for the report.
func transportOf(relay string) string {
	if strings.HasPrefix(strings.ToLower(relay), "ws") {
		return "ws"
	}
	return "tcp"
}
