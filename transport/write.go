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
	bp := getBuf()
	var b []byte
	var err error
	vectored := len(m.Body) >= writevMin && c.ws == nil && c.tcp != nil
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
	if vectored {
		var tail [80]byte
		err = c.writeVectored(net.Buffers{b, m.Body, m.AppendTail(tail[:0])})
	} else {
		err = c.writeLocked(b)
	}
	c.wmu.Unlock()
	putBuf(bp)
	if err == nil {
		c.keeper.Sent()
	}
	return err
}

// writevMin is the body size from which a plain TCP chunk is written with
// writev (head, body, tail) instead of being copied into one buffer first.
const writevMin = 8 << 10

// writeVectored writes one chunk in parts with a single writev; c.wmu must
// be held.
func (c *Conn) writeVectored(parts net.Buffers) error {
	if c.closed() {
		return c.closedErr(nil)
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	_, err := parts.WriteTo(c.tcp)
	return c.writeDone(n, err)
}

// writeLocked writes one chunk; c.wmu must be held.
func (c *Conn) writeLocked(b []byte) error {
	if c.closed() {
		return c.closedErr(nil)
	}
	deadline := time.Now().Add(c.cfg.WriteTimeout)
	var err error
	if c.ws != nil {
		typ := websocket.BinaryMessage
		if utf8.Valid(b) {
			typ = websocket.TextMessage
		}
		_ = c.ws.SetWriteDeadline(deadline)
		err = c.ws.WriteMessage(typ, b)
	} else {
		_ = c.nc.SetWriteDeadline(deadline)
		_, err = c.nc.Write(b)
	}
	return c.writeDone(len(b), err)
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
