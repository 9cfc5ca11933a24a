package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
	"github.com/msrpd/msrpd/sdp"
	"github.com/msrpd/msrpd/sipua"
)

func answerCommand() *cli.Command {
	return &cli.Command{
		Name:  "answer",
		Usage: "a SIP user agent server: answer INVITEs that offer MSRP, print what arrives, save files",
		Flags: append(sipFlags("127.0.0.1:5060",
			"receive SIP on `ADDR`: udp:HOST:PORT, tcp:HOST:PORT, or HOST:PORT for both (comma-separated list allowed)"),
			&cli.StringFlag{Name: "sip-registrar", Usage: "REGISTER at `URI` (sip:host:port) so callers reach us by address-of-record; refreshed, removed on exit", Action: cliflag.One("sip-registrar", checkSIPURI)},
			&cli.GenericFlag{Name: "sip-expires", Value: &cliflag.Duration{D: time.Hour, NonZero: true}, Usage: "registration lifetime (`DURATION`) to ask for"},
			&cli.GenericFlag{Name: "reject", Value: &cliflag.Int{}, Usage: "answer every INVITE with this SIP status `CODE` (486, 603, ...) instead"},
			&cli.GenericFlag{Name: "max-calls", Value: &cliflag.Int{N: 10, Min: 1}, Usage: "`N` concurrent calls; more get 486 Busy Here"},
			&cli.GenericFlag{Name: "count", Value: &cliflag.Int{}, Usage: "exit after `N` messages or files, hanging up with BYE (0: run until interrupted)"},
			&cli.GenericFlag{Name: "answer-delay", Value: &cliflag.Duration{}, Usage: "ring this long (`DURATION`, with 180) before answering"},
			&cli.BoolFlag{Name: "interactive", Usage: "chat: send stdin lines to the call (the latest one when several are up)"},
		),
		Action: runAnswer,
	}
}

// answerer answers calls until interrupted or --count is reached.
type answerer struct {
	c     *cli.Context
	ctx   context.Context
	stop  context.CancelFunc
	ua    *sipua.UA
	ln    *endpoint.Listener
	p     *printer
	count int64
	got   atomic.Int64
	lines chan string   // stdin lines with --interactive
	ready chan struct{} // closed when the fields above are set
	wg    sync.WaitGroup

	mu     sync.Mutex
	active int
}

func runAnswer(c *cli.Context) error {
	if code := c.Int("reject"); code != 0 && (code < 300 || code > 699) {
		return fmt.Errorf("--reject %d: want a final failure code, 300 to 699", code)
	}
	ctx, cancel := signalContext(c.Context)
	defer cancel()
	a := &answerer{c: c, ctx: ctx, stop: cancel, ready: make(chan struct{}), p: &printer{w: bufio.NewWriter(os.Stdout), dir: c.String("out")}, count: int64(c.Int("count"))}
	if a.p.dir != "" {
		if err := os.MkdirAll(a.p.dir, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	contactFor := ""
	if r := c.String("sip-registrar"); r != "" {
		contactFor = hostPortOf(r)
	}
	cfg, err := sipConfig(c, contactFor)
	if err != nil {
		return err
	}
	cfg.OnInvite = a.onInvite
	if a.ua, err = sipua.New(cfg); err != nil {
		return err
	}
	defer a.ua.Close()
	if firstRelay(c) == "" {
		ecfg, err := endpointConfig(c, "user")
		if err != nil {
			return err
		}
		if a.ln, err = msrpListener(c, hostOf(a.ua.Addr()), ecfg); err != nil {
			return err
		}
		defer a.ln.Close()
	}
	if c.Bool("interactive") {
		a.lines = make(chan string)
		go a.readStdin()
	}
	close(a.ready)
	status("answering at %s", a.ua.Contact())
	if r := c.String("sip-registrar"); r != "" {
		reg, err := a.ua.Register(ctx, r, sipua.RegisterOptions{Expires: c.Duration("sip-expires"),
			OnStatus: func(line string, err error) {
				if err != nil {
					status("%s: %v", line, err)
				} else {
					status("%s", line)
				}
			}})
		if err != nil {
			return err
		}
		defer func() {
			uctx, ucancel := context.WithTimeout(context.Background(), c.Duration("sip-timeout"))
			defer ucancel()
			_ = reg.Close(uctx)
		}()
	}
	<-ctx.Done()
	a.wg.Wait() // every call hangs up on ctx
	return nil
}

// take reserves a call slot.
func (a *answerer) take() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active >= a.c.Int("max-calls") {
		return false
	}
	a.active++
	return true
}

func (a *answerer) release() {
	a.mu.Lock()
	a.active--
	a.mu.Unlock()
}

// onInvite answers one INVITE: checks the offer, rings, sets up the MSRP
// session, answers 200 and serves the session on a goroutine of its own.
func (a *answerer) onInvite(in *sipua.Incoming) {
	select {
	case <-a.ready:
	case <-a.ctx.Done():
		_ = in.Reject(480, "Temporarily Unavailable", "starting or stopping")
		return
	}
	c := a.c
	line := "← INVITE from " + in.From()
	reject := func(code int, reason, why string) {
		err := in.Reject(code, reason, why)
		msg := fmt.Sprintf("%s → %d %s", line, code, reason)
		if why != "" {
			msg += " (" + why + ")"
		}
		if err != nil {
			msg += ": " + err.Error()
		}
		status("%s", msg)
	}
	if code := c.Int("reject"); code != 0 {
		reject(code, reasonPhrase(code), "")
		return
	}
	if !a.take() {
		reject(486, "Busy Here", fmt.Sprintf("%d calls already (--max-calls)", c.Int("max-calls")))
		return
	}
	established := false
	defer func() {
		if !established {
			a.release()
		}
	}()
	body, ct := in.Body()
	if mt, _, _ := mime.ParseMediaType(ct); len(body) == 0 || (ct != "" && mt != "application/sdp") {
		reject(488, "Not Acceptable Here", "no SDP offer in the INVITE (offerless INVITEs are not supported)")
		return
	}
	offer, err := sdp.Parse(body)
	if err != nil {
		reject(400, "Bad Request", "malformed SDP: "+err.Error())
		return
	}
	idx, m, err := offer.MSRP()
	if err != nil {
		reject(488, "Not Acceptable Here", err.Error())
		return
	}
	setup, err := sdp.AnswerSetup(m.Setup, setupPreference(c, firstRelay(c) != "", m))
	if err != nil {
		reject(488, "Not Acceptable Here", err.Error())
		return
	}
	if m.Direction == "recvonly" {
		reject(488, "Not Acceptable Here", "the offer wants to receive a file; we have none to send")
		return
	}
	if err := in.Ring(); err != nil {
		status("%s: %v", line, err)
		return
	}
	line += " → 180"
	if d := c.Duration("answer-delay"); d > 0 {
		status("%s (ringing; answering in %v)", line, d)
		select {
		case <-time.After(d):
		case <-in.Canceled():
			status("%s → CANCEL → 487", line)
			return
		case <-a.ctx.Done():
			reject(480, "Temporarily Unavailable", "shutting down")
			return
		}
	}
	var fileSize int64
	if m.File != nil {
		fileSize = m.File.Size
	}
	sctx, scancel := withTimeout(a.ctx, c.Duration("timeout"))
	e, err := openSession(sctx, c, a.ln, fileSize)
	scancel()
	if err != nil {
		reject(503, "Service Unavailable", "MSRP: "+err.Error())
		return
	}
	mine := localMedia(c, e, m.Proto, hostOf(a.ua.Addr()), sessionMax(fileSize))
	mine.Setup = setup
	switch m.Direction {
	case "sendonly":
		mine.Direction = "recvonly"
	case "inactive":
		mine.Direction = "inactive"
	}
	if m.File != nil {
		mine.File, mine.FileTransferID = m.File, m.FileTransferID
	}
	ans := sdp.Answer(offer, idx, mine, hostOf(a.ua.Addr()), time.Now().Unix())
	d, err := in.Accept(a.ctx, ans.Marshal())
	if err != nil {
		_ = e.Close()
		status("%s → 200: %v", line, err)
		return
	}
	status("%s → 200 → ACK", line)
	hctx, hcancel := untilHangup(a.ctx, d.Done())
	cctx, ccancel := withTimeout(hctx, c.Duration("timeout"))
	err = tlsHint(c, e.Connect(cctx, m.Path, setup == sdp.SetupActive))
	ccancel()
	hcancel()
	if err != nil {
		status("MSRP session with %s failed: %v; hanging up", in.From(), err)
		a.hangup(d, in.From())
		_ = e.Close()
		return
	}
	s := &callSession{e: e, local: a.ua.AOR(), remote: in.From(), peer: m, cpim: useCPIM(c.String("cpim"), m),
		p: a.p, verbose: c.Bool("verbose"), dir: c.String("out"), file: m.File}
	established = true
	a.wg.Add(1)
	go a.serve(s, d)
}

// serve runs an established call until the peer hangs up, the MSRP
// session ends, or we stop (--count reached, interrupted).
func (a *answerer) serve(s *callSession, d *sipua.Dialog) {
	defer a.wg.Done()
	defer a.release()
	defer s.e.Close()
	for {
		select {
		case m, ok := <-s.e.Messages():
			if !ok {
				// A caller that is done closes the session, then sends
				// BYE: give the BYE a moment before sending ours.
				select {
				case <-d.Done():
					if d.EndedByPeer() {
						status("← BYE from %s → 200", s.remote)
					}
				case <-time.After(byeGrace):
					status("MSRP session with %s ended: %v; hanging up", s.remote, s.e.Err())
					a.hangup(d, s.remote)
				}
				return
			}
			if s.handle(a.ctx, m) && a.count > 0 && a.got.Add(1) >= a.count {
				a.stop()
			}
		case l := <-a.lines:
			s.sendText(a.ctx, l, endpoint.SendOptions{}, func(err error) {
				if err != nil {
					fmt.Fprintf(os.Stderr, "msrpcat: not delivered: %q: %v\n", l, err)
				}
			})
		case <-d.Done():
			if d.EndedByPeer() {
				status("← BYE from %s → 200", s.remote)
			}
			// Through a relay the BYE can overtake the last message.
			a.drain(s)
			return
		case <-a.ctx.Done():
			a.hangup(d, s.remote)
			return
		}
	}
}

// drain handles the messages that arrive within byeDrain of the end of
// the call.
func (a *answerer) drain(s *callSession) {
	t := time.NewTimer(byeDrain)
	defer t.Stop()
	for {
		select {
		case m, ok := <-s.e.Messages():
			if !ok {
				return
			}
			if s.handle(a.ctx, m) && a.count > 0 && a.got.Add(1) >= a.count {
				a.stop()
			}
		case <-t.C:
			return
		}
	}
}

// byeDrain is how long messages are still taken after the call ended.
const byeDrain = 300 * time.Millisecond

// readStdin hands stdin lines to whichever call takes them first.
func (a *answerer) readStdin() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		select {
		case a.lines <- sc.Text():
		case <-a.ctx.Done():
			return
		}
	}
}

// byeGrace is how long a call whose MSRP session ended waits for the
// peer's BYE before sending its own.
const byeGrace = time.Second

// hangup sends BYE and says how it went.
func (a *answerer) hangup(d *sipua.Dialog, remote string) {
	if err := d.Hangup(context.Background()); err != nil {
		status("BYE to %s: %v", remote, err)
		return
	}
	status("BYE to %s → 200", remote)
}

// reasonPhrase is the usual reason phrase of a SIP status code.
func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	}
	return "Rejected"
}

// errEnded is the error of sends cut short by the end of the call.
var errEnded = errors.New("the call ended")
