package sipua

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Incoming is an INVITE that starts a new call, until Accept or Reject
// answers it.
type Incoming struct {
	u   *UA
	req *sip.Request
	tx  sip.ServerTransaction
	ds  *sipgo.DialogServerSession

	mu    sync.Mutex
	final bool
}

// onInvite turns a new INVITE into an Incoming for Config.OnInvite; it
// refuses re-INVITEs (the session stays as it is) and INVITEs it cannot
// make a dialog of.
func (u *UA) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		u.log.Infof("re-INVITE from %s: not supported, 488 (the session goes on unchanged)", req.Source())
		res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		res.AppendHeader(warning(u.host, "re-INVITE not supported"))
		u.send(tx, res)
		return
	}
	ds, err := u.dua.ReadInvite(req, tx)
	if err != nil {
		u.log.Warnf("INVITE from %s refused: %v", req.Source(), err)
		res := sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
		res.AppendHeader(warning(u.host, err.Error()))
		u.send(tx, res)
		return
	}
	in := &Incoming{u: u, req: req, tx: tx, ds: ds}
	u.log.Infof("INVITE from %s (%s) to %s", in.From(), req.Source(), req.Recipient.String())
	if u.cfg.OnInvite == nil {
		_ = in.Reject(480, "Temporarily Unavailable", "not answering calls")
		return
	}
	u.cfg.OnInvite(in)
	if !in.answered() {
		u.log.Errorf("INVITE from %s left unanswered by the application: 500", in.From())
		_ = in.Reject(500, "Server Internal Error", "")
	}
}

// warning makes a Warning header (RFC 3261 section 20.43, code 399:
// miscellaneous) naming our host.
func warning(host, text string) sip.Header {
	return sip.NewHeader("Warning", fmt.Sprintf(`399 %s "%s"`, host, sanitize(text)))
}

// sanitize keeps text fit for a quoted header value.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			b[i] = '\''
		}
	}
	if len(b) > 200 {
		b = append(b[:200], "..."...)
	}
	return string(b)
}

// From returns the caller's URI (the INVITE's From).
func (in *Incoming) From() string {
	if f := in.req.From(); f != nil {
		return f.Address.String()
	}
	return ""
}

// To returns the INVITE's To URI.
func (in *Incoming) To() string {
	if t := in.req.To(); t != nil {
		return t.Address.String()
	}
	return ""
}

// Source returns the address the INVITE came from.
func (in *Incoming) Source() string { return in.req.Source() }

// Body returns the INVITE's body (the SDP offer) and its Content-Type.
func (in *Incoming) Body() ([]byte, string) {
	ct := ""
	if h := in.req.ContentType(); h != nil {
		ct = h.Value()
	}
	return in.req.Body(), ct
}

// Canceled is closed when the caller cancels the call (CANCEL) or its
// transaction ends before an answer.
func (in *Incoming) Canceled() <-chan struct{} { return in.ds.Context().Done() }

func (in *Incoming) answered() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.final
}

// take marks the call answered; false if it already was.
func (in *Incoming) take() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.final {
		return false
	}
	in.final = true
	return true
}

// Ring sends 180 Ringing.
func (in *Incoming) Ring() error {
	res := sip.NewResponseFromRequest(in.ds.InviteRequest, 180, "Ringing", nil)
	in.u.traceOut(res)
	if err := in.ds.WriteResponse(res); err != nil {
		return fmt.Errorf("sipua: 180 to %s: %w", in.From(), err)
	}
	return nil
}

// Reject answers the INVITE with a final non-2xx code and, if warn is
// set, a Warning header saying why (for 488: what was unacceptable).
func (in *Incoming) Reject(code int, reason, warn string) error {
	if !in.take() {
		return fmt.Errorf("sipua: INVITE from %s already answered", in.From())
	}
	res := sip.NewResponseFromRequest(in.ds.InviteRequest, code, reason, nil)
	if warn != "" {
		res.AppendHeader(warning(in.u.host, warn))
	}
	in.u.traceOut(res)
	// WriteResponse waits for the ACK of a final response; bound it.
	errc := make(chan error, 1)
	go func() { errc <- in.ds.WriteResponse(res) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("sipua: %d to %s: %w", code, in.From(), err)
		}
	case <-time.After(in.u.cfg.Timeout):
		in.tx.Terminate()
		return fmt.Errorf("%w: no ACK for %d from %s", ErrNoACK, code, in.From())
	}
	return nil
}

// Accept answers 200 with the SDP answer and waits for the ACK (at most
// Config.Timeout, or until ctx ends). It returns the established dialog.
func (in *Incoming) Accept(ctx context.Context, sdp []byte) (*Dialog, error) {
	if !in.take() {
		return nil, fmt.Errorf("sipua: INVITE from %s already answered", in.From())
	}
	u := in.u
	res := sip.NewSDPResponseFromRequest(in.ds.InviteRequest, sdp)
	res.AppendHeader(sip.NewHeader("User-Agent", u.cfg.UserAgent))
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
	id := in.ds.ID
	u.mu.Lock()
	u.pendingAck[id] = in
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.pendingAck, id)
		u.mu.Unlock()
	}()
	// Known before the ACK: a BYE may overtake it (RFC 3261 section 15).
	d := newDialog(u, id, in.From(), in.req.Body(), in.ds.Context(), in.ds.Bye, in.ds.ReadBye)
	u.addDialog(id, d)
	u.traceOut(res)
	ctx, cancel := context.WithTimeout(ctx, u.cfg.Timeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- in.ds.WriteResponse(res) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		in.tx.Terminate() // stops the 200's retransmissions
		err = fmt.Errorf("%w from %s within %v", ErrNoACK, in.From(), u.cfg.Timeout)
	}
	if err != nil {
		u.removeDialog(id)
		d.end()
		select {
		case <-in.Canceled():
			if in.ds.LoadState() < sip.DialogStateConfirmed {
				return nil, fmt.Errorf("%w by %s: %v", ErrCanceled, in.From(), err)
			}
		default:
		}
		return nil, fmt.Errorf("sipua: 200 to %s: %w", in.From(), err)
	}
	u.log.Infof("call from %s established", in.From())
	return d, nil
}
