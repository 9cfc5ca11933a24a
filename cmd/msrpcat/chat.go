package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
)

func chatCommand() *cli.Command {
	return &cli.Command{
		Name:  "chat",
		Usage: "interactive: print our path, send stdin lines to the peer, print what it sends",
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "to", Usage: "the peer's `PATH`; without it, the first message received tells who the peer is", Action: cliflag.One("to", checkPath)},
		),
		Action: runChat,
	}
}

func runChat(c *cli.Context) error {
	ctx, cancel := signalContext(c.Context)
	defer cancel()
	cfg, err := endpointConfig(c, "user")
	if err != nil {
		return err
	}
	cfg.OnEvent = printEvents
	e, err := dial(ctx, c, cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, e.Path())
	if err := out.Flush(); err != nil {
		return err
	}
	return chat(ctx, e, &printer{w: out}, c.String("to"))
}

// chat runs the two directions until stdin ends (after the last send
// completed), ctx ends or the endpoint stops.
func chat(ctx context.Context, e *endpoint.Endpoint, p *printer, peerPath string) error {
	pt := &peer{e: e, path: peerPath}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-e.Messages():
			if !ok {
				return fmt.Errorf("endpoint stopped: %w", e.Err())
			}
			pt.learn(m.FromPath)
			if err := p.print(m, "< "); err != nil {
				return err
			}
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			to := pt.toPath()
			if to == "" {
				fmt.Fprintln(os.Stderr, "msrpcat: no peer yet (use --to, or wait for a message)")
				continue
			}
			wg.Add(1)
			e.SendAsync(ctx, to, "text/plain", []byte(line), endpoint.SendOptions{}, func(err error) {
				if err != nil {
					fmt.Fprintf(os.Stderr, "msrpcat: not delivered: %q: %v\n", line, err)
				}
				wg.Done()
			})
		}
	}
}

// peer knows where chat messages go: a configured path (prefixed with our
// current Use-Path at each send, so reconnects are followed) or the
// From-Path of the latest message received, which is the whole way back.
type peer struct {
	e       *endpoint.Endpoint
	path    string
	learned string
}

func (p *peer) learn(fromPath string) {
	if p.path == "" {
		p.learned = strings.TrimSpace(fromPath)
	}
}

func (p *peer) toPath() string {
	if p.path != "" {
		return p.e.PathTo(p.path)
	}
	return p.learned
}
