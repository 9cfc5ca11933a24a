package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/msrp"
)

// Send writes m as exactly one whole chunk: one WebSocket message (a text
// frame when the bytes are valid UTF-8, else binary; RFC 7977 section 4.2
// lets either carry MSRP) or one write to the TCP/TLS stream.
//
// Send is safe for concurrent use; chunks never interleave. It blocks
// while the peer is slow, which is the backpressure the layer above feels;
// a chunk not written within WriteTimeout closes the connection with
// ReasonSlowConsumer. There is no queue: a mutex-guarded write path costs
// an idle connection nothing, where a writer goroutine would cost a stack.
// An error from m.AppendTo is returned without closing.
func (c *Conn) Send(m *msrp.Message) error {
	if c.closed() {
		return c.closedErr(nil)
	}
	vectored := len(m.Body) >= writevMin && c.ws == nil && c.tcp != nil
	if !vectored && c.ws == nil {
		if queued, err := c.queue(m); queued || err != nil {
			return err
		}
	}
	bp := getBuf()
	var b []byte
	var err error
	if vectored {
		b, err = m.AppendHead((*bp)[:0])
	} else {
		b, err = m.AppendTo((*bp)[:0])
	}
	*bp = b
	if err != nil {
		putBuf(bp)
		return err
	}
	c.wmu.Lock()
	if len(c.out) > 0 {
		// Queued chunks go first; order on the wire is order of Send.
		err = c.flushLocked()
	}
	switch {
	case err != nil:
	case vectored:
		var tail [80]byte
		err = c.writeVectored(net.Buffers{b, m.Body, m.AppendTail(tail[:0])})
	default:
		err = c.writeLocked(b)
	}
	c.wmu.Unlock()
	putBuf(bp)
	if err == nil {
		c.keeper.Sent()
	}
	return err
}

// queue appends m to the queue of a held connection; it reports false,
// and queues nothing, when the connection is not held.
func (c *Conn) queue(m *msrp.Message) (bool, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.held == 0 {
		return false, nil
	}
	if c.closed() {
		return true, c.closedErr(nil)
	}
	out, err := m.AppendTo(c.out)
	if err != nil {
		return true, err
	}
	c.out = out
	c.keeper.Sent()
	if len(c.out) >= holdLimit {
		return true, c.flushLocked()
	}
	return true, nil
}

// writevMin is the body size from which a plain TCP chunk is written with
// writev (head, body, tail) instead of being copied into one buffer first.
const writevMin = 8 << 10

// writeVectored writes one chunk in parts with writev; c.wmu must be
// held. Like writeStream it gives up only when the peer takes nothing for
// WriteTimeout.
func (c *Conn) writeVectored(parts net.Buffers) error {
	if c.closed() {
		return c.closedErr(nil)
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	for {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		// WriteTo consumes what it wrote from parts, so a retry resumes.
		wrote, err := parts.WriteTo(c.tcp)
		if err == nil || wrote == 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			return c.writeDone(n, err)
		}
	}
}

// tlsSlice bounds one TLS write: a timed-out tls.Conn cannot resume, so
// progress is measured slice by slice instead.
const tlsSlice = 16 << 10

// writeStream writes one chunk to a TCP or TLS stream. The deadline
// bounds a stall, not the whole chunk: a peer that keeps reading, however
// slowly, is throttled rather than dropped, and one that takes nothing
// for WriteTimeout is a slow consumer.
func (c *Conn) writeStream(b []byte) error {
	total := len(b)
	for len(b) > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		part := b
		if c.tcp == nil && len(part) > tlsSlice {
			part = part[:tlsSlice]
		}
		wrote, err := c.nc.Write(part)
		b = b[wrote:]
		if err == nil {
			continue
		}
		if c.tcp != nil && wrote > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			continue // plain TCP resumes after a timeout that made progress
		}
		return c.writeDone(total, err)
	}
	return nil
}

// writeLocked writes one chunk; c.wmu must be held.
func (c *Conn) writeLocked(b []byte) error {
	if c.closed() {
		return c.closedErr(nil)
	}
	if c.ws == nil {
		return c.writeStream(b)
	}
	typ := websocket.BinaryMessage
	if utf8.Valid(b) {
		typ = websocket.TextMessage
	}
	// gorilla writes one frame per message and cannot resume it, so on
	// WebSocket the deadline bounds the whole chunk.
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	return c.writeDone(len(b), c.ws.WriteMessage(typ, b))
}

// writeDone turns a write error into the connection's close reason.
func (c *Conn) writeDone(n int, err error) error {
	if err == nil {
		return nil
	}
	if c.closed() {
		return c.closedErr(err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return c.fail(ReasonSlowConsumer,
			fmt.Errorf("%d-byte chunk not taken within %v", n, c.cfg.WriteTimeout))
	}
	return c.fail(ReasonWriteError, err)
}

// keeperLink is the keepalive.Link view of a Conn, a distinct type so the
// Link methods stay out of Conn's API.
type keeperLink Conn

func (l *keeperLink) conn() *Conn { return (*Conn)(l) }

func (l *keeperLink) CanPing() bool { return l.ws != nil }

func (l *keeperLink) SendPing() error {
	wait := min(l.cfg.keepalive.Timeout, l.cfg.WriteTimeout)
	return l.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(wait))
}

// SendProbe writes a bodiless SEND through the data path, unless a chunk
// is being written: then the link is not idle and the probe is skipped.
func (l *keeperLink) SendProbe(m *msrp.Message) error {
	c := l.conn()
	if !c.wmu.TryLock() {
		return errBusy
	}
	defer c.wmu.Unlock()
	if c.held > 0 || len(c.out) > 0 {
		return errBusy // chunks are queued: the link is not idle
	}
	var buf [512]byte
	b, err := m.AppendTo(buf[:0])
	if err != nil {
		return err
	}
	return c.writeLocked(b)
}

func (l *keeperLink) ProbePaths() (to, from string) {
	return l.conn().PeerURI(), l.conn().LocalURI()
}

func (l *keeperLink) SetReadDeadline(t time.Time) error { return l.nc.SetReadDeadline(t) }

func (l *keeperLink) CloseDead(detail string) { _ = l.conn().Close(ReasonKeepaliveTimeout, detail) }

func (l *keeperLink) String() string { return addrString(l.nc.RemoteAddr()) }

func addrString(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}
