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
)

// Read returns the next piece of an incoming chunk. Only one goroutine may
// call it. Responses to the keeper's own probes are consumed here and
// never returned. A fatal error closes the connection with a reason and
// returns a *CloseError; later calls return the same kind of error.
func (c *Conn) Read() (Frame, error) {
	if c.closed() {
		// Closed from elsewhere: give the pools back what the reader
		// still holds.
		c.releaseBuf()
		c.wsr.release()
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
			piece, last, err := c.rd.NextPiece(c.cfg.PieceSize)
			if err != nil {
				return Frame{}, c.readFailed(err)
			}
			if c.off+int64(len(piece)) > int64(c.cfg.MaxChunk) {
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
		m, err := c.rd.ReadHeader()
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

// readWS reads one WebSocket message, which is exactly one chunk
// (RFC 7977 section 5.1), parses it whole with msrp.Parse and delivers its
// body in pieces of at most PieceSize that alias the message buffer.
func (c *Conn) readWS() (Frame, error) {
	if c.cur != nil {
		return c.nextWSPiece(), nil
	}
	c.releaseBuf()
	for {
		var err error
		c.wsBuf, err = c.wsMessage()
		if err != nil {
			return Frame{}, c.readFailed(err)
		}
		m, err := msrp.Parse(*c.wsBuf, c.cfg.MaxHeader)
		if m == nil {
			// No transaction id to answer: the peer does not speak MSRP.
			c.keeper.Received()
			return Frame{}, c.fail(ReasonProtocolError, err)
		}
		if err != nil {
			// Includes a message with two chunks: answered 400 by the
			// layer above, the rest of the message is ignored.
			c.keeper.Received()
			m.Body = nil
			return Frame{Msg: m, Last: true, Err: err}, nil
		}
		consumed, err := c.inbound(m)
		if err != nil {
			return Frame{}, err
		}
		if consumed {
			c.releaseBuf()
			continue
		}
		if m.Body == nil {
			return Frame{Msg: m, Last: true}, nil
		}
		if len(m.Body) > c.cfg.MaxChunk {
			return c.tooLarge(m), nil
		}
		c.cur, c.off, c.wsBody = m, 0, m.Body
		return c.nextWSPiece(), nil
	}
}

func (c *Conn) nextWSPiece() Frame {
	m := c.cur
	n := min(len(c.wsBody), c.cfg.PieceSize)
	m.Body, c.wsBody = c.wsBody[:n:n], c.wsBody[n:]
	f := Frame{Msg: m, Offset: c.off, Last: len(c.wsBody) == 0}
	c.off += int64(n)
	if f.Last {
		c.cur, c.wsBody = nil, nil
	}
	return f
}

func (c *Conn) tooLarge(m *msrp.Message) Frame {
	m.Body = nil
	err := &msrp.ParseError{Code: 413, TransactionID: m.TransactionID,
		Reason: "chunk body exceeds " + strconv.Itoa(c.cfg.MaxChunk) + " bytes"}
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
		c.cfg.Totals.Add(keepalive.BodilessSend)
		if !c.limiter.Allow(time.Now(), &c.cfg.keepalive) {
			return false, c.flood("bodiless SENDs")
		}
	}
	return false, nil
}

func (c *Conn) flood(what string) error {
	c.counters.Add(keepalive.Flood)
	c.cfg.Totals.Add(keepalive.Flood)
	return c.fail(ReasonFlood, errors.New(what+" beyond "+
		strconv.FormatFloat(c.cfg.keepalive.FloodRate, 'g', -1, 64)+"/s"))
}

// readFailed closes the connection with the reason err implies.
func (c *Conn) readFailed(err error) error {
	if c.closed() {
		return c.closedErr(err)
	}
	var ce *websocket.CloseError
	var we *wsError
	var pe *msrp.ParseError
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return c.fail(ReasonPeerClosed, err)
	case errors.As(err, &ce):
		return c.fail(ReasonPeerClosed, err)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		// Only the keeper arms read deadlines; it was beaten to the close.
		c.counters.Add(keepalive.Timeout)
		c.cfg.Totals.Add(keepalive.Timeout)
		return c.fail(ReasonKeepaliveTimeout, err)
	case errors.As(err, &we):
		// Broken WebSocket framing: 1002, or 1009 for a message over
		// the read limit.
		return c.failWith(ReasonProtocolError, we.code, err)
	case errors.As(err, &pe):
		return c.fail(ReasonProtocolError, err)
	}
	return c.fail(ReasonReadError, err)
}

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
