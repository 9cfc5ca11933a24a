package sipua

import (
	"context"
	"fmt"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// Dialog is an established call, ours as caller or as callee, until a
// BYE from either side ends it.
type Dialog struct {
	u       *UA
	id      string
	remote  string
	sdp     []byte
	bye     func(context.Context) error
	readBye func(*sip.Request, sip.ServerTransaction) error

	done     chan struct{}
	endOnce  sync.Once
	mu       sync.Mutex
	byRemote bool
	stop     func() bool // ends the context's watch (context.AfterFunc)
}

// newDialog wraps a sipgo dialog whose context ends with it.
func newDialog(u *UA, id, remote string, sdp []byte, ctx context.Context,
	bye func(context.Context) error, readBye func(*sip.Request, sip.ServerTransaction) error) *Dialog {
	d := &Dialog{u: u, id: id, remote: remote, sdp: sdp, bye: bye, readBye: readBye, done: make(chan struct{})}
	// Under d.mu: with ctx over already, d.end runs at once, elsewhere.
	d.mu.Lock()
	d.stop = context.AfterFunc(ctx, d.end)
	d.mu.Unlock()
	return d
}

// unwatch stops the dialog's context from ending it.
func (d *Dialog) unwatch() {
	d.mu.Lock()
	stop := d.stop
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// end marks the dialog over, once.
func (d *Dialog) end() {
	d.endOnce.Do(func() {
		d.unwatch()
		d.u.removeDialog(d.id)
		close(d.done)
	})
}

// RemoteSDP returns the peer's session description: the answer for a
// call we placed, the offer for one we answered.
func (d *Dialog) RemoteSDP() []byte { return d.sdp }

// Remote returns the peer's URI.
func (d *Dialog) Remote() string { return d.remote }

// Done is closed when the dialog ends: a BYE either way.
func (d *Dialog) Done() <-chan struct{} { return d.done }

// EndedByPeer reports whether the peer's BYE ended the dialog.
func (d *Dialog) EndedByPeer() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byRemote
}

// Hangup sends BYE and waits for its answer (at most Config.Timeout).
// The dialog is over afterwards whatever the answer; hanging up an ended
// dialog does nothing.
func (d *Dialog) Hangup(ctx context.Context) error {
	select {
	case <-d.done:
		return nil
	default:
	}
	defer d.end()
	ctx, cancel := context.WithTimeout(ctx, d.u.cfg.Timeout)
	defer cancel()
	d.u.log.Tracef("SIP out: BYE to %s", d.remote)
	err := d.bye(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctxErr(ctx, "BYE to "+d.remote+" got no answer")
		}
		return fmt.Errorf("sipua: BYE to %s: %w", d.remote, err)
	}
	d.u.log.Infof("BYE to %s: 200", d.remote)
	return nil
}

// remoteBye answers the peer's BYE and ends the dialog, in that order:
// a program that exits when Done closes must not close the UA under the
// 200. sipgo's caller-side dialog ends its context before it answers, so
// that context stops ending the dialog here.
func (d *Dialog) remoteBye(req *sip.Request, tx sip.ServerTransaction) {
	d.unwatch()
	d.mu.Lock()
	d.byRemote = true
	d.mu.Unlock()
	d.u.log.Infof("BYE from %s", d.remote)
	if err := d.readBye(req, tx); err != nil {
		d.u.log.Infof("BYE from %s: %v", d.remote, err)
		d.u.respond(tx, req, 200, "OK")
	}
	d.end()
}
