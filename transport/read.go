package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// Read returns the next piece of an incoming chunk. Only one goroutine may
// call it. Responses to the keeper's own probes are consumed here and
// never returned. A fatal error closes the connection with a reason and
// returns a *CloseError; later calls return the same kind of error.
func (c *Conn) Read() (Frame, error) {
	if c.closed() {
		// Closed from elsewhere: give the pools back what the reader
		// still holds.
		c.wsRelease()
		c.wsr.Release()
		return Frame{}, c.closedErr(nil)
	}
	if c.kind.IsWebSocket() {
		return c.readWS()
	}
	return c.readStream()
}

// readStream reads TCP and TLS through the streaming msrp.Reader: headers
// first, then the body in pieces straight out of the Reader's buffer.
func (c *Conn) readStream() (Frame, error) {
	for {
		if m := c.cur; m != nil {
			piece, last, err := c.rd.NextPiece(c.h.cfg.PieceSize)
			if err != nil {
				return Frame{}, c.readFailed(err)
			}
			if c.off+int64(len(piece)) > int64(c.h.cfg.MaxChunk) {
				// The next ReadHeader skips the rest of this body.
				c.cur = nil
				return c.tooLarge(m), nil
			}
			if piece == nil {
				piece = []byte{}
			}
			m.Body = piece
			f := Frame{Msg: m, Offset: c.off, Last: last}
			c.off += int64(len(piece))
			if last {
				c.cur = nil
				m.Flag = c.rd.Flag()
			}
			return f, nil
		}
		if c.fatal != nil {
			return Frame{}, c.failAnswered(c.fatal)
		}
		m, err := c.rd.ReadHeader()
		c.headStart = 0 // the next header's timer starts afresh
		if m != nil && msrp.IsFatal(err) {
			// A header block over the limit that names its paths: the
			// framing is lost, but the 413 can be framed. The next Read
			// closes, once it has gone out.
			c.keeper.Received()
			c.fatal = err
			m.Body = nil
			return Frame{Msg: m, Last: true, Err: err}, nil
		}
		if m == nil || msrp.IsFatal(err) {
			return Frame{}, c.readFailed(err)
		}
		if err != nil {
			c.keeper.Received()
			m.Body = nil
			return Frame{Msg: m, Last: true, Err: err}, nil
		}
		consumed, err := c.inbound(m)
		if err != nil {
			return Frame{}, err
		}
		if consumed {
			continue
		}
		if m.Body == nil {
			return Frame{Msg: m, Last: true}, nil
		}
		c.cur, c.off = m, 0
	}
}

func (c *Conn) tooLarge(m *msrp.Message) Frame {
	m.Body = nil
	err := &msrp.ParseError{Code: 413, TransactionID: m.TransactionID,
		Reason: "chunk body exceeds " + strconv.Itoa(c.h.cfg.MaxChunk) + " bytes"}
	return Frame{Msg: m, Last: true, Err: err}
}

// inbound does what every complete header block needs: consume answers to
// our probes, learn URIs, count and rate-limit inbound bodiless SENDs.
func (c *Conn) inbound(m *msrp.Message) (consumed bool, err error) {
	if !m.IsRequest() {
		if c.keeper.IsProbeResponse(m) {
			return true, nil
		}
		c.keeper.Received()
		return false, nil
	}
	c.keeper.Received()
	c.learn(m)
	if m.Method == msrp.MethodSEND && m.Body == nil {
		c.counters.Add(keepalive.BodilessSend)
		c.h.totals.Add(keepalive.BodilessSend)
		if !c.limiter.Allow(time.Now(), &c.h.cfg.Keepalive) {
			return false, c.flood("bodiless SENDs")
		}
	}
	return false, nil
}

func (c *Conn) flood(what string) error {
	c.counters.Add(keepalive.Flood)
	c.h.totals.Add(keepalive.Flood)
	return c.fail(ReasonFlood, errors.New(what+" beyond "+
		strconv.FormatFloat(c.h.cfg.Keepalive.FloodRate, 'g', -1, 64)+"/s"))
}

// readFailed closes the connection with the reason err implies.
func (c *Conn) readFailed(err error) error {
	if c.closed() {
		return c.closedErr(err)
	}
	var ce *websocket.CloseError
	var we *ws.Error
	var pe *msrp.ParseError
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return c.fail(ReasonPeerClosed, err)
	case errors.As(err, &ce):
		return c.fail(ReasonPeerClosed, err)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		if c.deadline != phaseIdle {
			// A chunk begun and not finished in time (readtimeout.go).
			return c.fail(ReasonReadTimeout, errors.New(c.readTimeoutDetail()))
		}
		c.counters.Add(keepalive.Timeout)
		c.h.totals.Add(keepalive.Timeout)
		return c.fail(ReasonKeepaliveTimeout, err)
	case errors.As(err, &we):
		// Broken WebSocket framing: 1002, or 1009 for a message over
		// the read limit.
		return c.failWith(ReasonProtocolError, we.Code, err)
	case errors.As(err, &pe):
		return c.fail(ReasonProtocolError, err)
	}
	return c.fail(ReasonReadError, err)
}

// failAnswered closes the connection for err, a fatal error that the
// layer above has answered: what it queued goes out first, then a FIN, and
// the input is drained for a moment (at most closeWait), so that closing
// with unread input does not reset the connection and destroy the answer
// on its way.
func (c *Conn) failAnswered(err error) error {
	if c.closed() {
		return c.closedErr(err)
	}
	if f := c.beforeRead; f != nil {
		f() // releases the holds: the answer is written
	}
	closeWrite(c.nc)
	_ = c.nc.SetReadDeadline(time.Now().Add(closeWait))
	_, _ = io.Copy(io.Discard, io.LimitReader(c.nc, drainMax))
	return c.fail(ReasonProtocolError, err)
}

// drainMax bounds what failAnswered reads and drops.
const drainMax = 1 << 20

// fail closes the connection for r and returns the error Read gives.
func (c *Conn) fail(r CloseReason, err error) error {
	return c.failWith(r, closeCode(r), err)
}

// failWith is fail with the status code of the WebSocket close frame.
func (c *Conn) failWith(r CloseReason, code int, err error) error {
	detail := ""
	if err != nil {
		detail = err.Error()
	}
	_ = c.close(r, detail, code)
	return c.closedErr(err)
}
