package transport

import "io"

// Write batching. A relay reads a burst of chunks from one connection and
// answers or forwards each; written one by one, that is a system call per
// chunk on every side, the largest share of the relay's CPU. Instead the
// reader goroutine may Hold the connections it writes to: chunks sent to a
// held connection are queued, and Release writes them in one call. The
// reader releases its holds just before it waits for network input
// (SetBeforeRead), so nothing waits on a hold longer than it takes to
// handle what was already received.

// holdLimit bounds the bytes queued on a held connection; past it Send
// writes through, so a hold never grows memory without bound.
const holdLimit = 64 << 10

// Hold makes Send queue chunks for this connection until the matching
// Release. Holds nest (several readers may hold one connection); the last
// Release writes the queue, WebSocket frames included. Hold reports
// whether it took a hold, which must then be released.
func (c *Conn) Hold() bool {
	c.wmu.Lock()
	c.held++
	c.wmu.Unlock()
	return true
}

// Release ends one Hold; the last one writes what was queued. A write
// error closes the connection, as Send's would.
func (c *Conn) Release() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.held--
	if c.held > 0 || len(c.out) == 0 {
		return nil
	}
	return c.flushLocked()
}

// flushLocked writes the queued chunks; c.wmu must be held.
func (c *Conn) flushLocked() error {
	if c.closed() {
		c.out = c.out[:0]
		return c.closedErr(nil)
	}
	err := c.writeStream(c.out)
	if cap(c.out) > 4*holdLimit {
		c.out = nil // a burst of large chunks: do not keep the buffer
	} else {
		c.out = c.out[:0]
	}
	return err
}

// SetBeforeRead sets a function the reader calls just before it waits for
// network input: the place to Release holds. Reader goroutine only.
func (c *Conn) SetBeforeRead(f func()) { c.beforeRead = f }

// hookReader calls the Conn's beforeNetRead (the layer above's
// beforeRead, then the read deadline) ahead of every network read of a
// stream connection. WebSocket reads call it through wsLink.BeforeRead.
type hookReader struct {
	c *Conn
	r io.Reader
}

func (h hookReader) Read(p []byte) (int, error) {
	h.c.beforeNetRead()
	n, err := h.r.Read(p)
	if n > 0 && h.c.cur != nil {
		// Inside a body every read is a sign of life, not only a complete
		// piece: the msrp.Reader gathers a whole piece before returning
		// it, which over a slow link can take longer than the keepalive
		// allows. (Header blocks count once parsed, so that an answer to
		// our probe is still recognised as one.)
		h.c.keeper.Received()
	}
	return n, err
}
