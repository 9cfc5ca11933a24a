package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
)

func listenCommand() *cli.Command {
	return &cli.Command{
		Name:  "listen",
		Usage: "AUTH, print the session's path (first line), then print every message received",
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "out", Usage: "save non-text bodies in `DIR` as files named by Message-ID"},
			&cli.GenericFlag{Name: "count", Value: &cliflag.Int{}, Usage: "exit after `N` messages (0: run until interrupted)"},
		),
		Action: runListen,
	}
}

func runListen(c *cli.Context) error {
	ctx, cancel := signalContext(c.Context)
	defer cancel()
	out := bufio.NewWriter(os.Stdout)
	p := &printer{w: out, dir: c.String("out")}
	cfg, err := endpointConfig(c, "user")
	if err != nil {
		return err
	}
	if p.dir != "" {
		if err := os.MkdirAll(p.dir, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		cfg.SpoolDir = p.dir
	}
	cfg.OnEvent = printEvents
	e, err := dial(ctx, c, cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	fmt.Fprintln(out, e.Path())
	if err := out.Flush(); err != nil {
		return err
	}
	return receiveLoop(ctx, e, p, c.Int("count"))
}

// receiveLoop prints messages until ctx ends, count messages arrived (if
// count > 0), or the endpoint stops.
func receiveLoop(ctx context.Context, e *endpoint.Endpoint, p *printer, count int) error {
	for n := 0; count <= 0 || n < count; n++ {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-e.Messages():
			if !ok {
				return fmt.Errorf("endpoint stopped: %w", e.Err())
			}
			if err := p.print(m, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// printer writes received messages to stdout.
type printer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	dir string
}

// print writes m: a text body as lines (with prefix), anything else as a
// note, saved to the --out directory when one is set.
func (p *printer) print(m *endpoint.Message, prefix string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if isText(m.ContentType) && m.File == "" {
		body := string(m.Body)
		if strings.HasPrefix(strings.ToLower(m.ContentType), "message/cpim") {
			body = cpimContent(body)
		}
		fmt.Fprintln(p.w, prefix+strings.TrimRight(body, "\r\n"))
		return p.w.Flush()
	}
	note := fmt.Sprintf("[%s, %d bytes, Message-ID %s]", m.ContentType, m.Size, m.ID)
	if p.dir != "" {
		name, err := p.save(m)
		if err != nil {
			fmt.Fprintf(os.Stderr, "msrpcat: message %s: %v\n", m.ID, err)
		} else {
			note = fmt.Sprintf("[%s, %d bytes, saved as %s]", m.ContentType, m.Size, name)
		}
	} else if m.File != "" {
		_ = os.Remove(m.File)
	}
	fmt.Fprintln(p.w, prefix+note)
	return p.w.Flush()
}

// save stores m's body as DIR/<Message-ID>.
func (p *printer) save(m *endpoint.Message) (string, error) {
	name := filepath.Join(p.dir, filepath.Base(m.ID))
	if m.File != "" {
		return name, os.Rename(m.File, name)
	}
	return name, os.WriteFile(name, m.Body, 0o644)
}

// cpimContent returns the content of a message/cpim body (RFC 3862): what
// follows the CPIM headers and the MIME headers.
func cpimContent(s string) string {
	rest := s
	for i := 0; i < 2; i++ {
		j := strings.Index(rest, "\r\n\r\n")
		if j < 0 {
			return s
		}
		rest = rest[j+4:]
	}
	return rest
}

// line prints one line.
func (p *printer) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, s)
	if err := p.w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "msrpcat: stdout: %v\n", err)
	}
}
