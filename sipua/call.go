package sipua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// InviteOptions are the per-call choices of Invite.
type InviteOptions struct {
	// RingTimeout is how long to wait for a final answer before the call
	// is cancelled. 0 means DefaultRingTimeout.
	RingTimeout time.Duration
	// OnResponse, if set, is called with each response to the INVITE
	// (provisional, challenge, final), for status lines.
	OnResponse func(code int, reason string)
	// OnCancel, if set, is called when the ring time ran out or ctx ended
	// and a CANCEL is about to go out.
	//
	// OnResponse and OnCancel are called one at a time, and never after
	// Invite returned: they may share state without a lock, and Invite's
	// caller may read it afterwards.
	OnCancel func()
}

// Invite calls target (a SIP URI) with sdp as the offer: it follows
// provisional responses, answers a 401 or 407 with Digest credentials,
// and ACKs the 200. A final non-2xx response is a *StatusError; when ctx
// ends or the ring time runs out, the call is cancelled (CANCEL) and the
// error wraps ErrTimeout or ErrCanceled.
func (u *UA) Invite(ctx context.Context, target string, sdp []byte, opts InviteOptions) (*Dialog, error) {
	var to sip.Uri
	if err := sip.ParseUri(target, &to); err != nil {
		return nil, fmt.Errorf("%w: target %q: %v", ErrBadConfig, target, err)
	}
	if to.Scheme != "sip" && to.Scheme != "sips" {
		return nil, fmt.Errorf("%w: target %q is not a sip: URI", ErrBadConfig, target)
	}
	if opts.RingTimeout == 0 {
		opts.RingTimeout = DefaultRingTimeout
	}
	req := sip.NewRequest(sip.INVITE, to)
	req.AppendHeader(u.from())
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: to.Scheme, User: to.User, Host: to.Host, Port: to.Port}})
	ch := u.contact()
	req.AppendHeader(&ch)
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdp)
	if tr, ok := to.UriParams.Get("transport"); ok && to.UriParams != nil {
		req.SetTransport(strings.ToUpper(tr))
	}
	if err := u.prepare(req, true); err != nil {
		return nil, err
	}
	u.traceOut(req)
	ringCtx, cancel := context.WithTimeout(ctx, opts.RingTimeout)
	defer cancel()
	dcs, err := u.dua.WriteInvite(ringCtx, req)
	if err != nil {
		return nil, fmt.Errorf("sipua: INVITE %s: %w", target, err)
	}
	// sipgo reports responses on its own goroutine, the CANCEL comes from
	// this one, and a response may still come after Invite gave up
	// waiting for WaitAnswer: the callbacks take turns under cbMu, and
	// none runs once Invite returns.
	var cbMu sync.Mutex
	returned := false
	callback := func(f func()) {
		cbMu.Lock()
		defer cbMu.Unlock()
		if !returned {
			f()
		}
	}
	defer callback(func() { returned = true })
	canceling := false
	aopts := sipgo.AnswerOptions{
		Username: u.cfg.AuthUser,
		Password: u.cfg.Password,
		OnResponse: func(r *sip.Response) error {
			if opts.OnResponse != nil {
				callback(func() { opts.OnResponse(r.StatusCode, r.Reason) })
			}
			return nil
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- dcs.WaitAnswer(ringCtx, aopts) }()
	select {
	case err = <-errc:
	case <-ringCtx.Done():
		canceling = true
		if opts.OnCancel != nil {
			callback(opts.OnCancel)
		}
		// WaitAnswer sends the CANCEL; give it Config.Timeout to end.
		select {
		case err = <-errc:
		case <-time.After(u.cfg.Timeout):
			err = errors.New("CANCEL got no answer")
		}
	}
	if err != nil {
		var re *sipgo.ErrDialogResponse
		var rv sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &re):
			return nil, statusError(re.Res)
		case errors.As(err, &rv):
			return nil, statusError(rv.Res)
		case canceling || ringCtx.Err() != nil:
			what := fmt.Sprintf("INVITE %s: no answer within %v, cancelled", target, opts.RingTimeout)
			if ctx.Err() != nil {
				what = fmt.Sprintf("INVITE %s: cancelled", target)
			}
			if dcs.InviteResponse != nil && !dcs.InviteResponse.IsProvisional() && dcs.InviteResponse.StatusCode != 487 {
				what += fmt.Sprintf(" (last response %d %s)", dcs.InviteResponse.StatusCode, dcs.InviteResponse.Reason)
			}
			if ctx.Err() != nil {
				return nil, ctxErr(ctx, what)
			}
			return nil, fmt.Errorf("%w: %s", ErrTimeout, what)
		}
		return nil, fmt.Errorf("sipua: INVITE %s: %w", target, err)
	}
	res := dcs.InviteResponse
	ack := func() error {
		actx, acancel := context.WithTimeout(context.Background(), u.cfg.Timeout)
		defer acancel()
		return dcs.Ack(actx)
	}
	d := newDialog(u, dcs.ID, target, res.Body(), dcs.Context(), dcs.Bye,
		func(r *sip.Request, tx sip.ServerTransaction) error { return dcs.ReadBye(r, tx) })
	u.addDialog(dcs.ID, d)
	u.log.Tracef("SIP out: ACK to %s", target)
	if err := ack(); err != nil {
		d.end()
		return nil, fmt.Errorf("sipua: ACK to %s: %w", target, err)
	}
	return d, nil
}

// statusError turns a final response into a *StatusError.
func statusError(r *sip.Response) *StatusError {
	se := &StatusError{Method: "INVITE", Code: r.StatusCode, Reason: r.Reason}
	if cseq := r.CSeq(); cseq != nil {
		se.Method = string(cseq.MethodName)
	}
	if w := r.GetHeader("Warning"); w != nil {
		se.Warning = w.Value()
	}
	return se
}
