package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
)

func sendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "send TEXT, a --file, or stdin lines to --to PATH; exit 0 only if every message was acknowledged",
		ArgsUsage: "[TEXT...]",
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "to", Required: true, Usage: "the peer's `PATH` (what its listen printed, or its SDP a=path)", Action: cliflag.One("to", checkPath)},
			&cli.StringFlag{Name: "file", Usage: "send `FILE` as one message"},
			&cli.GenericFlag{Name: "chunk", Value: &cliflag.Size{N: endpoint.DefaultChunkSize}, Usage: "chunk `SIZE` in bytes (or with KiB)"},
			&cli.GenericFlag{Name: "window", Value: &cliflag.Int{N: endpoint.DefaultWindow, Min: 1}, Usage: "`N` SEND chunks awaiting their 200 at once"},
			&cli.StringFlag{Name: "content-type", Usage: "`TYPE` (default text/plain, or by --file extension)", Action: cliflag.One("content-type", checkContentType)},
			&cli.BoolFlag{Name: "report", Usage: "ask for success REPORTs and wait for them"},
			&cli.GenericFlag{Name: "timeout", Value: &cliflag.Duration{D: 30 * time.Second, NonZero: true}, Usage: "per-chunk response timeout (`DURATION`)"},
			&cli.GenericFlag{Name: "linger", Value: &cliflag.Duration{D: 300 * time.Millisecond}, Usage: "without --report, how long (`DURATION`) to wait after the last 200 for failure REPORTs (a relay answers 200 before delivery)"},
		),
		Action: runSend,
	}
}

// checkContentType checks a MIME type: type/subtype, parameters allowed.
func checkContentType(s string) error {
	t, _, err := mime.ParseMediaType(s)
	if err != nil || !strings.Contains(t, "/") {
		return errors.New("want a MIME type such as text/plain or application/pdf")
	}
	return nil
}

func runSend(c *cli.Context) error {
	ctx, cancel := signalContext(c.Context)
	defer cancel()
	cfg, err := endpointConfig(c, "user")
	if err != nil {
		return err
	}
	cfg.ChunkSize, cfg.Window, cfg.ChunkTimeout = c.Int("chunk"), c.Int("window"), c.Duration("timeout")
	cfg.ReconnectAttempts = 0 // a lost connection fails the sends; no point in a new path
	if c.String("file") != "" && c.Args().Present() {
		return fmt.Errorf("give TEXT or --file, not both")
	}
	var body []byte
	if name := c.String("file"); name != "" {
		// Read before connecting: a file that cannot be read is the
		// user's to fix, not a relay's failure.
		if body, err = os.ReadFile(name); err != nil {
			return fmt.Errorf("--file: %w", err)
		}
	}
	s := &sender{ctx: ctx, ct: c.String("content-type"), opts: endpoint.SendOptions{SuccessReport: c.Bool("report")}}
	cfg.OnEvent = func(ev endpoint.Event) {
		if ev.Kind == endpoint.EventFailureReport {
			s.fail("after its 200s", ev.Err)
		}
	}
	e, err := dial(ctx, c, cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	s.e, s.to = e, e.PathTo(c.String("to"))
	switch {
	case c.String("file") != "":
		s.file(c.String("file"), body)
	case c.Args().Present():
		s.send([]byte(strings.Join(c.Args().Slice(), " ")), "argument")
	default:
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for n := 1; sc.Scan(); n++ {
			s.send(append([]byte(nil), sc.Bytes()...), fmt.Sprintf("line %d", n))
		}
		if err := sc.Err(); err != nil {
			s.fail("stdin", err)
		}
	}
	s.wg.Wait()
	if !c.Bool("report") && c.Duration("linger") > 0 {
		select {
		case <-time.After(c.Duration("linger")):
		case <-ctx.Done():
		}
	}
	if f := s.failed.Load(); f > 0 {
		return exitError{code: 1}
	}
	return nil
}

// sender sends messages asynchronously (the window bounds them) and counts
// failures.
type sender struct {
	ctx    context.Context
	e      *endpoint.Endpoint
	to, ct string
	opts   endpoint.SendOptions
	wg     sync.WaitGroup
	failed atomic.Int64
}

func (s *sender) send(body []byte, what string) {
	s.wg.Add(1)
	ct := s.ct
	if ct == "" {
		ct = "text/plain"
	}
	s.e.SendAsync(s.ctx, s.to, ct, body, s.opts, func(err error) {
		if err != nil {
			s.fail(what, err)
		}
		s.wg.Done()
	})
}

func (s *sender) fail(what string, err error) {
	s.failed.Add(1)
	fmt.Fprintf(os.Stderr, "msrpcat: %s: %v\n", what, err)
}

// file sends one file, with a progress bar when stderr is a terminal.
func (s *sender) file(name string, body []byte) {
	ct := s.ct
	if ct == "" {
		ct = mime.TypeByExtension(filepath.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
	}
	opts := s.opts
	var bar *progressBar
	if isTerminal(os.Stderr) {
		bar = &progressBar{start: time.Now()}
		opts.Progress = bar.update
	}
	err := s.e.SendWith(s.ctx, s.to, ct, body, opts)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		s.fail(name, err)
	}
}

// progressBar draws "[#####     ]  42%  1.2 MB/s" on stderr.
type progressBar struct {
	start time.Time
	last  time.Time
}

func (b *progressBar) update(sent, total int64) {
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond && sent < total {
		return
	}
	b.last = now
	const width = 40
	frac := 1.0
	if total > 0 {
		frac = float64(sent) / float64(total)
	}
	n := int(frac * width)
	rate := float64(sent) / max(now.Sub(b.start).Seconds(), 1e-6) / 1e6
	fmt.Fprintf(os.Stderr, "\r[%s%s] %3.0f%% %.1f MB/s", strings.Repeat("#", n), strings.Repeat(" ", width-n), frac*100, rate)
}

func (b *progressBar) finish() { fmt.Fprintln(os.Stderr) }
