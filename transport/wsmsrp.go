package transport

import (
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/msrpd/msrpd/msrp"
)

// MSRP over WebSocket carries one chunk per message (RFC 7977 section
// 5.1). The chunk is parsed from the message's payload as it arrives, the
// way msrp.Reader parses a TCP stream: the header block first, then the
// body in pieces of at most PieceSize, each handed out as soon as the
// buffer holds a piece's worth or the message's end. So one buffer of
// PieceSize + MaxHeader and a little more is all a connection holds,
// whatever the size of the message, and only while a message is being
// read.
//
// What RFC 7977 forbids is still refused, as when messages were parsed
// whole: a message that holds more than one chunk, or ends before its
// chunk's end-line, is answered 400 and its rest is dropped; a chunk
// whose body would exceed MaxChunk is answered 413. When the message is
// larger than the buffer, pieces of it went ahead before the problem
// showed; the layer above then aborts them (Frame.Err for the chunk it is
// following).

// wsIn follows the WebSocket message being read. Reader goroutine only.
//
// A wsIn and its buffer are taken from the Host's pool when a message
// begins and given back when it ends: an idle connection holds neither.
type wsIn struct {
	buf        []byte
	start, end int  // buf[start:end] was read and not consumed yet
	seen       int  // bytes after start known to be body: scanned once
	eom        bool // the message's payload has all been read into buf
	inHead     bool // the chunk's header block is not complete yet
	head       msrp.HeadScanner
	body       msrp.EndScanner
}

// wsBufPool hands out the message readers of one config: each buffer
// holds a whole header block and a piece with its end-line after it.
type wsBufPool struct {
	size int
	pool sync.Pool
}

func newWSBufPool(pieceSize, maxHeader int) *wsBufPool {
	p := &wsBufPool{size: pieceSize + maxHeader + 2*msrp.MaxEndLine}
	p.pool.New = func() any {
		return &wsIn{buf: make([]byte, p.size)}
	}
	return p
}

// trailerMax is how much may follow a chunk's end-line in its message: an
// optional CRLF.
const trailerMax = 2

// readWS returns the next piece of the chunk the current WebSocket
// message carries, or the first of the next message. After an error the
// connection is closed, and the buffer goes back to the pool at once.
func (c *Conn) readWS() (Frame, error) {
	f, err := c.nextWS()
	if err != nil {
		c.cur = nil
		c.wsRelease()
	}
	return f, err
}

func (c *Conn) nextWS() (Frame, error) {
	if c.cur != nil {
		return c.wsPiece()
	}
	for {
		if err := c.wsFinish(); err != nil {
			return Frame{}, c.readFailed(err)
		}
		if err := c.wsr.NextMessage(); err != nil {
			return Frame{}, c.readFailed(err)
		}
		f, ok, err := c.wsHead()
		if err != nil || ok {
			return f, err
		}
	}
}

// wsFinish ends the message before the next: what the caller did not
// take of it (after a refusal) is read and dropped, and the buffer goes
// back to the pool.
func (c *Conn) wsFinish() error {
	w := c.ws
	if w == nil {
		return nil
	}
	for !w.eom {
		// The rest of a refused message: read into the buffer and
		// forgotten, a sign of life all the same.
		n, err := c.wsr.Read(w.buf)
		if n > 0 {
			c.keeper.Received()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			c.wsRelease()
			return err
		}
	}
	c.wsRelease()
	return nil
}

// wsRelease gives the message reader and its buffer back.
func (c *Conn) wsRelease() {
	if c.ws != nil {
		c.h.wsBufs.pool.Put(c.ws)
		c.ws = nil
	}
}

// wsFill reads more of the message into the free end of the buffer.
// Past the header block every read is a sign of life: a piece may take
// longer to fill than keepalive allows, and a peer sending one large
// frame cannot answer a Ping until the frame is done. (A header block
// counts once parsed, so that an answer to our probe is still recognised
// as one.)
func (c *Conn) wsFill() error {
	w := c.ws
	n, err := c.wsr.Read(w.buf[w.end:])
	w.end += n
	if n > 0 && !w.inHead {
		c.keeper.Received()
	}
	if err == io.EOF {
		w.eom = true
		return nil
	}
	return err
}

// wsCompact moves the unconsumed bytes to the front of the buffer.
func (c *Conn) wsCompact() {
	w := c.ws
	w.end = copy(w.buf, w.buf[w.start:w.end])
	w.start = 0
}

// wsHead reads the header block of a message that has just begun. ok is
// false when the chunk was consumed here (an answer to our probe); err is
// the error Read returns.
func (c *Conn) wsHead() (f Frame, ok bool, err error) {
	c.ws = c.h.wsBufs.pool.Get().(*wsIn)
	w := c.ws
	w.start, w.end, w.eom, w.inHead = 0, 0, false, true
	w.head.Reset()
	var m *msrp.Message
	var n int
	for {
		m, n, err = w.head.Scan(w.buf[:w.end], c.h.cfg.MaxHeader)
		if m != nil || err != nil {
			break
		}
		if w.eom {
			c.keeper.Received()
			return Frame{}, false, c.fail(ReasonProtocolError, errors.New("msrp: message ends inside its header block"))
		}
		// The buffer holds more than MaxHeader: Scan decides first.
		if err := c.wsFill(); err != nil {
			return Frame{}, false, c.readFailed(err)
		}
	}
	w.inHead = false
	c.headStart = 0 // the next header's timer starts afresh
	if m == nil {
		c.keeper.Received()
		// No transaction id or no paths to answer: the peer does not
		// speak MSRP.
		return Frame{}, false, c.fail(ReasonProtocolError, err)
	}
	if err != nil {
		// A chunk that can be answered (400, or 413 for a header block
		// over the limit): the message's bounds are known, so its rest
		// is dropped and the connection lives on.
		c.keeper.Received()
		m.Body = nil
		return Frame{Msg: m, Last: true, Err: err}, true, nil
	}
	w.start = n
	if m.Body == nil {
		if bad, err := c.wsTrailer(m.TransactionID); err != nil || bad != nil {
			c.keeper.Received()
			return Frame{Msg: m, Last: true, Err: bad}, bad != nil, err
		}
	} else if left, known := c.wsr.KnownLeft(); known {
		// The message's length is known: refuse an oversized body
		// before any of it goes ahead.
		overhead := int64(2+7+len(m.TransactionID)+1) + trailerMax
		if int64(w.end-w.start)+left-overhead > int64(c.h.cfg.MaxChunk) {
			c.keeper.Received()
			return c.tooLarge(m), true, nil
		}
	}
	consumed, err := c.inbound(m)
	if err != nil {
		return Frame{}, false, err
	}
	if consumed {
		return Frame{}, false, nil
	}
	if m.Body == nil {
		return Frame{Msg: m, Last: true}, true, nil
	}
	c.cur, c.off, w.seen = m, 0, 0
	w.body.Reset(m.TransactionID)
	f, err = c.wsPiece()
	return f, true, err
}

// wsPiece returns the next piece of the current chunk's body. A piece
// that is not the last is handed out only when it is PieceSize bytes or
// the buffer is full, so the pieces of a large chunk are PieceSize bytes
// each and the last one is never empty.
func (c *Conn) wsPiece() (Frame, error) {
	w := c.ws
	m := c.cur
	size := c.h.cfg.PieceSize
	for {
		data := w.buf[w.start:w.end]
		// Only what was not scanned yet: a piece is scanned once, however
		// many reads it took to fill.
		n, endLen, _ := w.body.Scan(data, w.seen)
		w.seen = n
		if endLen > 0 && n <= size {
			if !w.eom && len(w.buf)-(w.start+n+endLen) <= trailerMax {
				// Room to see what follows the end-line without
				// moving the piece.
				c.wsCompact()
				continue
			}
			w.start += n + endLen
			bad, err := c.wsTrailer(m.TransactionID)
			if err != nil {
				return Frame{}, err
			}
			if bad != nil {
				return c.wsRefuse(m, bad), nil
			}
			return c.wsDeliver(m, data[:n], true, data[n+endLen-1])
		}
		if n > size {
			// More than a piece: the rest of the body, at least a byte,
			// comes later.
			w.start += size
			w.seen -= size
			w.body.Consumed(size)
			return c.wsDeliver(m, data[:size], false, 0)
		}
		switch {
		case w.eom:
			return c.wsRefuse(m, &msrp.ParseError{Code: 400, TransactionID: m.TransactionID,
				Reason: "message ends before the chunk's end-line (one chunk per message)"}), nil
		case w.end < len(w.buf):
		case w.start > 0:
			c.wsCompact()
		default:
			// Cannot happen: a full buffer holds more than a piece of
			// certain body.
			w.start += n
			w.seen = 0
			w.body.Consumed(n)
			return c.wsDeliver(m, data[:n], false, 0)
		}
		if err := c.wsFill(); err != nil {
			return Frame{}, c.readFailed(err)
		}
	}
}

// wsDeliver hands out piece of the current chunk; flag is the end-line's
// flag of the last piece.
func (c *Conn) wsDeliver(m *msrp.Message, piece []byte, last bool, flag byte) (Frame, error) {
	if c.off+int64(len(piece)) > int64(c.h.cfg.MaxChunk) {
		c.cur = nil
		return c.tooLarge(m), nil
	}
	if len(piece) > 0 {
		c.keeper.Received()
	}
	m.Body = piece[:len(piece):len(piece)]
	f := Frame{Msg: m, Offset: c.off, Last: last}
	c.off += int64(len(piece))
	if last {
		c.cur = nil
		m.Flag = flag
	}
	return f, nil
}

// wsRefuse ends the current chunk with err; the rest of the message is
// dropped by the next Read.
func (c *Conn) wsRefuse(m *msrp.Message, err error) Frame {
	c.cur = nil
	m.Body = nil
	return Frame{Msg: m, Last: true, Err: err}
}

// wsTrailer checks that the message ends where its chunk (transaction
// tid) ended, at ws.start, or after one more CRLF: RFC 7977 allows one
// chunk per message. It returns a 400 *msrp.ParseError, with the rest of
// the message left to drop, for anything else. While it reads on, the
// bytes before ws.start stay where they are unless the buffer is full.
func (c *Conn) wsTrailer(tid string) (bad error, err error) {
	w := c.ws
	for {
		rest := w.buf[w.start:w.end]
		if len(rest) > trailerMax || string(rest) != "\r\n"[:len(rest)] {
			break
		}
		if w.eom {
			w.start = w.end
			return nil, nil
		}
		if w.end == len(w.buf) {
			c.wsCompact()
		}
		if err := c.wsFill(); err != nil {
			return nil, c.readFailed(err)
		}
	}
	n := int64(w.end - w.start)
	left, known := c.wsr.KnownLeft()
	more := strconv.FormatInt(n+left, 10) + " bytes"
	if !known {
		more = "more than " + strconv.FormatInt(n, 10) + " bytes"
	}
	return &msrp.ParseError{Code: 400, TransactionID: tid,
		Reason: more + " after the end-line (one chunk per message)"}, nil
}
