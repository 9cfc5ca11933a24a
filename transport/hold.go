package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
)

// Write batching. A relay reads a burst of chunks from one connection and
// answers or forwards each; written one by one, that is a system call per
// chunk on every side, the largest share of the relay's CPU. Instead the
// reader goroutine may Hold the connections it writes to: chunks sent to a
// held connection are queued, and Release writes them in one call. The reader releases its holds just before it waits for network
// input (SetBeforeRead), so nothing waits on a hold longer than it takes
// to handle what was already received.

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

// hookReader calls the Conn's beforeRead ahead of every network read of a
// stream connection.
type hookReader struct {
	c *Conn
	r io.Reader
}

func (h hookReader) Read(p []byte) (int, error) {
	if f := h.c.beforeRead; f != nil {
		f()
	}
	return h.r.Read(p)
}

// hookConn is the net.Conn gorilla reads a WebSocket from: its reads run
// the Conn's beforeRead hook first, so the hook fires only when gorilla
// really has to wait for the network, and the chunks of a burst that
// arrived together are handled under one hold.
//
// It also reads ahead: gorilla's read buffer is small (idle connections
// keep it), so under load every chunk would cost a read(2) and end the
// reader's holds. After a read that filled gorilla's buffer, more is
// likely waiting, and one non-blocking read takes it into a pooled buffer
// that is served from memory and given back when drained. A read that
// waits for the network always goes to gorilla's own buffer, so an idle
// connection holds no read-ahead.
type hookConn struct {
	net.Conn
	c     *Conn           // set before the reader starts
	raw   syscall.RawConn // plain TCP only, for the non-blocking read
	ahead *[]byte         // read-ahead not yet handed to gorilla
	off   int
}

func (h *hookConn) Read(p []byte) (int, error) {
	if h.ahead != nil {
		n := copy(p, (*h.ahead)[h.off:])
		if h.off += n; h.off == len(*h.ahead) {
			aheadPool.Put(h.ahead)
			h.ahead, h.off = nil, 0
		}
		return n, nil
	}
	if h.c != nil && h.c.beforeRead != nil { // nil during the handshake
		h.c.beforeRead()
	}
	n, err := h.Conn.Read(p)
	if err == nil && n == len(p) && h.raw != nil {
		h.readAhead()
	}
	return n, err
}

// aheadSize is the read-ahead buffer: a burst of small chunks.
const aheadSize = 16 << 10

var aheadPool = sync.Pool{New: func() any {
	b := make([]byte, aheadSize)
	return &b
}}

// readAhead takes what the socket already holds, without waiting.
func (h *hookConn) readAhead() {
	bp := aheadPool.Get().(*[]byte)
	b := (*bp)[:aheadSize]
	n := 0
	_ = h.raw.Read(func(fd uintptr) bool {
		n, _ = syscall.Read(int(fd), b)
		return true // done, data or not: never wait here
	})
	if n <= 0 {
		aheadPool.Put(bp)
		return
	}
	*bp = b[:n]
	h.ahead, h.off = bp, 0
}

// newHookConn wraps nc; plain TCP gets read-ahead.
func newHookConn(nc net.Conn) *hookConn {
	h := &hookConn{Conn: nc}
	if tc, ok := nc.(*net.TCPConn); ok {
		h.raw, _ = tc.SyscallConn()
	}
	return h
}

// unhook returns the connection under a hookConn, for writes and socket
// options.
func unhook(nc net.Conn) (net.Conn, *hookConn) {
	if h, ok := nc.(*hookConn); ok {
		return h.Conn, h
	}
	return nc, nil
}

// hookWriter makes the hijacked connection of a WebSocket upgrade a
// hookConn.
type hookWriter struct {
	http.ResponseWriter
	hc *hookConn
}

func (w *hookWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("transport: response writer cannot be hijacked")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hc = newHookConn(nc)
	return w.hc, brw, nil
}

// dialHooked dials a hookConn, for gorilla's client side.
func dialHooked(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return newHookConn(nc), nil
}

// tlsHook finds the hookConn under a client's TLS connection.
func tlsHook(nc net.Conn) *hookConn {
	if tc, ok := nc.(*tls.Conn); ok {
		_, h := unhook(tc.NetConn())
		return h
	}
	return nil
}
