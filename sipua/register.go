package sipua

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// minRefresh keeps a registrar that grants tiny Expires values from
// making us spin.
const minRefresh = 500 * time.Millisecond

// RegisterOptions are the choices of Register.
type RegisterOptions struct {
	// Expires is the registration lifetime asked for. 0 means 3600s.
	Expires time.Duration
	// OnStatus, if set, is called after each REGISTER exchange with a
	// one-line description ("REGISTER sip:example.com → 401 → 200 OK
	// (expires 300s)") and its error (nil on success). It must not block.
	OnStatus func(line string, err error)
}

// Registration keeps an address-of-record bound to our Contact: it
// refreshes the binding before it expires and removes it on Close.
type Registration struct {
	u      *UA
	uri    sip.Uri // the registrar
	aor    sip.Uri
	callID sip.CallIDHeader
	tag    string
	opts   RegisterOptions

	mu      sync.Mutex
	cseq    uint32
	expires time.Duration // granted
	timer   *time.Timer
	closed  bool
}

// Register binds our Contact to the address-of-record sip:User@host of
// registrar (or Config.Domain) at the registrar URI (sip:host[:port]),
// answering Digest challenges, and keeps it bound until Close.
func (u *UA) Register(ctx context.Context, registrar string, opts RegisterOptions) (*Registration, error) {
	var ru sip.Uri
	if err := sip.ParseUri(registrar, &ru); err != nil {
		return nil, fmt.Errorf("%w: registrar %q: %v", ErrBadConfig, registrar, err)
	}
	if opts.Expires == 0 {
		opts.Expires = time.Hour
	}
	domain := u.cfg.Domain
	if domain == "" {
		domain = ru.Host
	}
	r := &Registration{
		u:      u,
		uri:    ru,
		aor:    sip.Uri{Scheme: "sip", User: u.cfg.User, Host: domain},
		callID: sip.CallIDHeader(sip.GenerateTagN(24)),
		tag:    sip.GenerateTagN(16),
		opts:   opts,
		cseq:   1,
	}
	if err := r.register(ctx, opts.Expires); err != nil {
		return nil, err
	}
	return r, nil
}

// AOR returns the address-of-record.
func (r *Registration) AOR() string { return r.aor.String() }

// Expires returns the lifetime the registrar granted last.
func (r *Registration) Expires() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.expires
}

// register sends one REGISTER (expires 0 removes the binding) with
// Digest, and on success schedules the refresh.
func (r *Registration) register(ctx context.Context, expires time.Duration) error {
	u := r.u
	ctx, cancel := context.WithTimeout(ctx, u.cfg.Timeout)
	defer cancel()
	r.mu.Lock()
	r.cseq++
	cseq := r.cseq
	r.mu.Unlock()
	req := sip.NewRequest(sip.REGISTER, r.uri)
	from := &sip.FromHeader{Address: r.aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: r.aor})
	callID := r.callID
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	ch := u.contact()
	req.AppendHeader(&ch)
	secs := int(expires / time.Second)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(secs)))
	if tr, ok := r.uri.UriParams.Get("transport"); ok && r.uri.UriParams != nil {
		req.SetTransport(strings.ToUpper(tr))
	}
	if err := u.prepare(req, true); err != nil {
		return err
	}
	line := "REGISTER " + r.uri.String()
	if expires == 0 {
		line = "unREGISTER " + r.uri.String()
	}
	u.traceOut(req)
	res, err := u.cli.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		line += fmt.Sprintf(" → %d", res.StatusCode)
		u.traceOut(req)
		res, err = u.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: u.cfg.AuthUser, Password: u.cfg.Password})
		r.mu.Lock()
		r.cseq = max(r.cseq, req.CSeq().SeqNo) // DoDigestAuth counted one up
		r.mu.Unlock()
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctxErr(ctx, line+" got no answer")
		} else {
			err = fmt.Errorf("sipua: %s: %w", line, err)
		}
		r.status(line+" → no answer", err)
		return err
	}
	line += fmt.Sprintf(" → %d %s", res.StatusCode, res.Reason)
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		err := statusError(res)
		r.status(line, err)
		return err
	}
	if expires == 0 {
		r.status(line, nil)
		return nil
	}
	granted := grantedExpires(res, ch.Address, expires)
	r.status(fmt.Sprintf("%s (expires %v)", line, granted), nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expires = granted
	if !r.closed {
		r.armLocked(granted)
	}
	return nil
}

func (r *Registration) status(line string, err error) {
	if err != nil {
		r.u.log.Warnf("%s: %v", line, err)
	} else {
		r.u.log.Infof("%s", line)
	}
	if r.opts.OnStatus != nil {
		r.opts.OnStatus(line, err)
	}
}

// armLocked schedules the refresh halfway through the granted lifetime
// (early enough for a retry or two before it runs out).
func (r *Registration) armLocked(granted time.Duration) {
	d := max(granted/2, minRefresh)
	r.timer = time.AfterFunc(d, func() {
		r.mu.Lock()
		closed := r.closed
		r.mu.Unlock()
		if closed {
			return
		}
		if err := r.register(context.Background(), r.opts.Expires); err != nil {
			// Try again soon; the binding may still hold.
			r.mu.Lock()
			if !r.closed {
				r.timer = time.AfterFunc(max(d/4, minRefresh), func() { _ = r.register(context.Background(), r.opts.Expires) })
			}
			r.mu.Unlock()
		}
	})
}

// grantedExpires reads the lifetime the registrar gave our Contact: its
// expires parameter, else the Expires header, else what we asked for.
func grantedExpires(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		for _, part := range strings.Split(h.Value(), ",") {
			if !strings.Contains(part, fmt.Sprintf("%s:%d", ours.Host, ours.Port)) {
				continue
			}
			if i := strings.Index(strings.ToLower(part), "expires="); i >= 0 {
				v := part[i+len("expires="):]
				if j := strings.IndexAny(v, ";> "); j >= 0 {
					v = v[:j]
				}
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

// Close removes the binding (REGISTER with Expires 0) and stops the
// refreshes.
func (r *Registration) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	return r.register(ctx, 0)
}
