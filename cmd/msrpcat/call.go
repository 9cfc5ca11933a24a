package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/sdp"
	"github.com/msrpd/msrpd/sipua"
)

func callCommand() *cli.Command {
	return &cli.Command{
		Name:      "call",
		Usage:     "a SIP user agent client: INVITE SIP-URI, send TEXT, a --file or stdin lines over MSRP, hang up; exit 0 only if everything was delivered",
		ArgsUsage: "SIP-URI [TEXT...]",
		Flags: append(sipFlags("",
			"receive SIP on `ADDR`: udp:HOST:PORT, tcp:HOST:PORT, or HOST:PORT for both (default: a free port on the address that reaches the target)"),
			&cli.StringFlag{Name: "file", Usage: "send `FILE` (offered with a=file-selector, RFC 5547)"},
			&cli.StringFlag{Name: "content-type", Usage: "Content-Type of --file (default by its extension)", Action: cliflag.One("content-type", checkContentType)},
			&cli.BoolFlag{Name: "interactive", Usage: "chat: send stdin lines and print what arrives until stdin ends or the peer hangs up"},
			&cli.BoolFlag{Name: "report", Usage: "ask for success REPORTs and wait for them"},
			&cli.GenericFlag{Name: "ring-timeout", Value: &cliflag.Duration{D: sipua.DefaultRingTimeout, NonZero: true}, Usage: "how long (`DURATION`) to wait for an answer before cancelling (CANCEL)"},
			&cli.GenericFlag{Name: "linger", Value: &cliflag.Duration{D: 300 * time.Millisecond}, Usage: "through a relay and without --report, how long (`DURATION`) to wait after the last 200 before hanging up (a relay answers 200 before delivery)"},
		),
		Action: runCall,
	}
}

func runCall(c *cli.Context) error {
	target := c.Args().First()
	if target == "" {
		return fmt.Errorf("call: give the SIP-URI to call")
	}
	if sipua.CheckURI(target) != nil {
		return fmt.Errorf("call %q: want a SIP URI such as sip:bob@192.0.2.7:5060 or sip:bob@example.com;transport=tls", target)
	}
	text := strings.Join(c.Args().Tail(), " ")
	file := c.String("file")
	if file != "" && (text != "" || c.Bool("interactive")) {
		return fmt.Errorf("give TEXT, --file or --interactive, one of them")
	}
	if dir := c.String("out"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	ctx, cancel := signalContext(c.Context)
	defer cancel()
	route := target
	if p := c.String("sip-proxy"); p != "" {
		route = p
	}
	cfg, err := sipConfig(c, hostPortOf(route))
	if err != nil {
		return err
	}
	if len(cfg.Listen) == 0 {
		// A free port on the address that reaches the target.
		cfg.Listen = []string{net.JoinHostPort(routeIP(hostPortOf(route)), "0")}
	}
	ua, err := sipua.New(cfg)
	if err != nil {
		return err
	}
	defer ua.Close()
	host := hostOf(ua.Addr())
	var ln *endpoint.Listener
	if firstRelay(c) == "" {
		ecfg, err := endpointConfig(c, "user")
		if err != nil {
			return err
		}
		if ln, err = msrpListener(c, host, ecfg); err != nil {
			return err
		}
		defer ln.Close()
	}
	sctx, scancel := withTimeout(ctx, c.Duration("timeout"))
	e, err := openSession(sctx, c, ln, 0)
	scancel()
	if err != nil {
		return err
	}
	defer e.Close()
	mine := localMedia(c, e, "", host, sessionMax(0))
	mine.Setup = sdp.SetupActPass
	ct := c.String("content-type")
	if file != "" {
		if ct == "" {
			if ct = mime.TypeByExtension(filepath.Ext(file)); ct == "" {
				ct = "application/octet-stream"
			}
		}
		fs, err := hashFile(file, ct)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		mine.File, mine.Direction, mine.FileTransferID = &fs, "sendonly", msrp.NewSessionID()
	}
	offer := sdp.NewSession(host, time.Now().Unix(), mine.Media())

	line := "INVITE " + target
	d, err := ua.Invite(ctx, target, offer.Marshal(), sipua.InviteOptions{
		RingTimeout: c.Duration("ring-timeout"),
		OnResponse:  func(code int, reason string) { line += fmt.Sprintf(" → %d %s", code, reason) },
		OnCancel:    func() { line += " → CANCEL" },
	})
	if err != nil {
		status("%s: %v", line, tlsHint(c, err))
		return exitError{code: 1}
	}
	status("%s → ACK", line)
	k := &caller{c: c, ctx: ctx, d: d, e: e}
	defer k.hangup()
	am, err := answerMedia(d.RemoteSDP())
	if err != nil {
		status("the answer from %s: %v; hanging up", target, err)
		return exitError{code: 1}
	}
	// A BYE from the peer ends whatever we are doing: nothing more is
	// sent, and the MSRP session is freed once the 200s that may still
	// be on their way (the BYE can overtake them) had a moment.
	ctx, hcancel := untilHangup(ctx, d.Done())
	defer hcancel()
	go func() {
		<-ctx.Done()
		if d.EndedByPeer() {
			time.Sleep(byeDrain)
			_ = e.Close()
		}
	}()
	k.ctx = ctx
	active, err := sdp.OffererActive(am.Setup)
	if err == nil {
		cctx, ccancel := withTimeout(ctx, c.Duration("timeout"))
		err = tlsHint(c, e.Connect(cctx, am.Path, active))
		ccancel()
	}
	if err != nil {
		status("MSRP session with %s failed: %v; hanging up", target, err)
		return exitError{code: 1}
	}
	k.s = &callSession{e: e, local: ua.AOR(), remote: target, peer: am, cpim: useCPIM(c.String("cpim"), am),
		p: &printer{w: bufio.NewWriter(os.Stdout), dir: c.String("out")}, verbose: c.Bool("verbose"), dir: c.String("out")}
	received := k.receive()
	switch {
	case file != "":
		k.sendFile(file, ct)
	case c.Bool("interactive"):
		k.chat(received)
	case text != "":
		k.send(text, "argument")
	default:
		k.stdin()
	}
	k.wg.Wait()
	if p, _ := msrp.ParsePath(k.e.Peer()); len(p) > 1 && !c.Bool("report") && c.Duration("linger") > 0 {
		select {
		case <-time.After(c.Duration("linger")):
		case <-d.Done():
		case <-ctx.Done():
		}
	}
	if d.EndedByPeer() && k.failed.Load() > 0 {
		status("the call was ended by %s (BYE) before everything was delivered", target)
	}
	if k.failed.Load() > 0 {
		return exitError{code: 1}
	}
	return nil
}

// answerMedia reads the MSRP media of an SDP answer.
func answerMedia(b []byte) (sdp.MSRPMedia, error) {
	s, err := sdp.Parse(b)
	if err != nil {
		return sdp.MSRPMedia{}, fmt.Errorf("malformed SDP: %w", err)
	}
	_, m, err := s.MSRP()
	if err != nil {
		return sdp.MSRPMedia{}, fmt.Errorf("no usable MSRP stream (the peer refused it?): %w", err)
	}
	return m, nil
}

// caller sends what it was given over an established call.
type caller struct {
	c      *cli.Context
	ctx    context.Context
	d      *sipua.Dialog
	e      *endpoint.Endpoint
	s      *callSession
	wg     sync.WaitGroup
	failed atomic.Int64
	once   sync.Once
}

// receive prints what the peer sends until the session ends; the
// returned channel is closed then.
func (k *caller) receive() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range k.e.Messages() {
			k.s.handle(k.ctx, m)
		}
	}()
	return done
}

func (k *caller) opts() endpoint.SendOptions {
	return endpoint.SendOptions{SuccessReport: k.c.Bool("report")}
}

// send sends one chat message; the result is counted in k.failed.
func (k *caller) send(text, what string) {
	k.wg.Add(1)
	k.s.sendText(k.ctx, text, k.opts(), func(err error) {
		if err != nil {
			k.fail(what, err)
		}
		k.wg.Done()
	})
}

func (k *caller) fail(what string, err error) {
	k.failed.Add(1)
	if k.d.EndedByPeer() {
		err = fmt.Errorf("%w by the peer (BYE): %v", errEnded, err)
	}
	fmt.Fprintf(os.Stderr, "msrpcat: %s not delivered: %v\n", what, err)
}

// sendFile streams the file as one message.
func (k *caller) sendFile(name, ct string) {
	f, err := os.Open(name)
	if err != nil {
		k.fail(name, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		k.fail(name, err)
		return
	}
	opts := k.opts()
	var bar *progressBar
	if isTerminal(os.Stderr) {
		bar = &progressBar{start: time.Now()}
		opts.Progress = bar.update
	}
	errc := make(chan error, 1)
	k.e.SendReader(k.ctx, k.e.Peer(), ct, f, st.Size(), opts, func(err error) { errc <- err })
	err = <-errc
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		k.fail(name, err)
		return
	}
	status("sent %s (%d bytes)", name, st.Size())
}

// stdin sends each stdin line as a message.
func (k *caller) stdin() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		k.send(sc.Text(), fmt.Sprintf("line %d", n))
	}
	if err := sc.Err(); err != nil {
		k.fail("stdin", err)
	}
}

// chat sends stdin lines until stdin ends or the call ends, printing what
// arrives meanwhile.
func (k *caller) chat(received <-chan struct{}) {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-k.d.Done():
				return
			}
		}
	}()
	for n := 1; ; n++ {
		select {
		case l, ok := <-lines:
			if !ok {
				return
			}
			k.send(l, fmt.Sprintf("line %d", n))
		case <-k.d.Done():
			status("← BYE from %s → 200", k.s.remote)
			return
		case <-received:
			return
		case <-k.ctx.Done():
			return
		}
	}
}

// hangup ends the MSRP session, then the call with BYE unless the peer
// already hung up.
func (k *caller) hangup() {
	k.once.Do(func() {
		_ = k.e.Close()
		if k.d.EndedByPeer() {
			return
		}
		select {
		case <-k.d.Done():
			return
		default:
		}
		if err := k.d.Hangup(context.Background()); err != nil {
			if !errors.Is(err, sipua.ErrTimeout) {
				status("BYE: %v", err)
				return
			}
			status("BYE: no answer: %v", err)
			return
		}
		status("BYE → 200")
	})
}
