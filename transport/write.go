package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// Send writes m as exactly one whole chunk: one WebSocket message (a text
// frame when the bytes are valid UTF-8, else binary; RFC 7977 section 4.2
// lets either carry MSRP) or one write to the TCP/TLS stream.
//
// Send is safe for concurrent use; chunks never interleave. It blocks
// while the peer is slow, which is the backpressure the layer above feels;
// a peer that takes nothing for WriteTimeout closes the connection with
// ReasonSlowConsumer. There is no writer goroutine: a mutex-guarded write
// path costs an idle connection nothing. On a held connection (Hold) the
// chunk is queued instead and written by the last Release. An error from
// m.AppendTo is returned without closing.
func (c *Conn) Send(m *msrp.Message) error {
	if c.closed() {
		return c.closedErr(nil)
	}
	// A large body goes by writev, uncopied, on plain TCP; WebSocket
	// frames too, unless we are the client, whose frames are masked.
	vectored := len(m.Body) >= writevMin && c.tcp != nil && !c.client
	if !vectored {
		if queued, err := c.queue(m); queued || err != nil {
			return err
		}
	}
	bp := getBuf()
	b, err := c.encode((*bp)[:0], m, vectored)
	if err != nil {
		putBuf(bp)
		return err
	}
	c.wmu.Lock()
	if len(c.out) > 0 {
		// Queued chunks go first; order on the wire is order of Send.
		err = c.flushLocked()
	}
	if err == nil && vectored {
		var tail [80]byte
		t := m.AppendTail(tail[:0])
		if c.kind.IsWebSocket() {
			b = ws.FrameAround(b, m.Body, t)
		}
		err = c.writeVectored(net.Buffers{b, m.Body, t})
	} else if err == nil {
		err = c.writeLocked(b)
	}
	c.wmu.Unlock()
	if cap(b) > cap(*bp) {
		*bp = b[:0] // keep the buffer AppendTo had to grow
	}
	putBuf(bp)
	if err == nil {
		c.keeper.Sent()
	}
	return err
}

// encode appends m's wire form to dst: for a vectored write only the head
// (the body and tail follow by writev; on WebSocket after room for the
// frame header), else the whole chunk, on WebSocket as one whole frame.
func (c *Conn) encode(dst []byte, m *msrp.Message, vectored bool) ([]byte, error) {
	switch {
	case vectored && c.kind.IsWebSocket():
		// Room for the frame header, which ws.FrameAround puts in front
		// once the whole payload's length is known.
		var room [ws.MaxFrameHeader]byte
		return m.AppendHead(append(dst, room[:]...))
	case vectored:
		return m.AppendHead(dst)
	case c.kind.IsWebSocket():
		// The payload is written after room for the frame header, which
		// then goes right in front of it: no copy of the chunk.
		var room [ws.MaxFrameHeader]byte
		b, err := m.AppendTo(append(dst, room[:]...))
		if err != nil {
			return dst, err
		}
		return ws.FrameInPlace(b, ws.DataOpcode(b[ws.MaxFrameHeader:]), c.client), nil
	default:
		return m.AppendTo(dst)
	}
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
	if c.kind.IsWebSocket() {
		bp := getBuf()
		b, err := m.AppendTo((*bp)[:0])
		if err == nil {
			c.out = ws.AppendFrame(c.out, ws.DataOpcode(b), b, c.client)
		}
		*bp = b[:0]
		putBuf(bp)
		if err != nil {
			return true, err
		}
	} else {
		out, err := m.AppendTo(c.out)
		if err != nil {
			return true, err
		}
		c.out = out
	}
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
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.h.cfg.WriteTimeout))
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
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.h.cfg.WriteTimeout))
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

// writeLocked writes one encoded chunk (a whole frame on WebSocket);
// c.wmu must be held.
func (c *Conn) writeLocked(b []byte) error {
	if c.closed() {
		return c.closedErr(nil)
	}
	return c.writeStream(b)
}

// writeControl writes a control frame (Pong, Close) between whole
// frames; chunks queued by a hold stay queued behind it.
func (c *Conn) writeControl(opcode byte, payload []byte, wait time.Duration) error {
	// Pooled: a buffer on the stack would escape through the net.Conn,
	// garbage for every Pong an idle connection sends.
	bp := getBuf()
	defer putBuf(bp)
	frame := ws.AppendFrame((*bp)[:0], opcode, payload, c.client)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed() {
		return c.closedErr(nil)
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(wait))
	_, err := c.nc.Write(frame)
	return err
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
			fmt.Errorf("%d-byte chunk not taken within %v", n, c.h.cfg.WriteTimeout))
	}
	return c.fail(ReasonWriteError, err)
}

// keeperLink is the keepalive.Link view of a Conn, a distinct type so the
// Link methods stay out of Conn's API.
type keeperLink Conn

func (l *keeperLink) conn() *Conn { return (*Conn)(l) }

func (l *keeperLink) CanPing() bool { return l.kind.IsWebSocket() }

// SendPing writes a Ping frame, unless a chunk is being written or is
// queued: then the link is not idle and the probe is skipped.
func (l *keeperLink) SendPing() error { return l.sendProbe(nil) }

// SendProbe writes a bodiless SEND through the data path, unless a chunk
// is being written: then the link is not idle and the probe is skipped.
func (l *keeperLink) SendProbe(m *msrp.Message) error { return l.sendProbe(m) }

// sendProbe writes m, or a Ping frame for nil, without waiting for the
// write lock. It may block on the socket for WriteTimeout, which the
// keepalive Scheduler allows for.
func (l *keeperLink) sendProbe(m *msrp.Message) error {
	c := l.conn()
	if !c.wmu.TryLock() {
		return errBusy
	}
	defer c.wmu.Unlock()
	if c.held > 0 || len(c.out) > 0 {
		return errBusy // chunks are queued: the link is not idle
	}
	// A pooled buffer: one on the stack would escape to the heap through
	// the net.Conn, a garbage every probe.
	bp := getBuf()
	defer putBuf(bp)
	if m == nil {
		return c.writeLocked(ws.AppendFrame((*bp)[:0], ws.OpPing, nil, c.client))
	}
	b, err := c.encode((*bp)[:0], m, false)
	if err != nil {
		return err
	}
	return c.writeLocked(b)
}

func (l *keeperLink) ProbePaths() (to, from string) {
	return l.conn().PeerURI(), l.conn().LocalURI()
}

func (l *keeperLink) CloseDead(detail string) { _ = l.conn().Close(ReasonKeepaliveTimeout, detail) }

func (l *keeperLink) String() string { return addrString(l.nc.RemoteAddr()) }

func addrString(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}
