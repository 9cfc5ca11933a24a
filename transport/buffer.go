package transport

import (
	"io"
	"sync"
)

// Message buffers are pooled so that an idle WebSocket connection holds
// none: a buffer is taken for one message and given back on the next Read.
// Buffers grown past maxPooled are left to the collector, so a rare large
// chunk does not pin memory.
const (
	firstBuffer = 4 << 10
	maxPooled   = 128 << 10 // a default 64 KiB piece with its headers
)

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, firstBuffer)
	return &b
}}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// readMessage reads r to its end into a pooled buffer.
func readMessage(r io.Reader) (*[]byte, error) {
	bp := getBuf()
	b := (*bp)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*bp = b
			return bp, nil
		}
		if err != nil {
			*bp = b
			putBuf(bp)
			return nil, err
		}
	}
}

func (c *Conn) releaseBuf() {
	if c.wsBuf != nil {
		putBuf(c.wsBuf)
		c.wsBuf = nil
	}
}

// wsWritePool is given to gorilla only so that it allocates no write
// buffer per connection: this package writes every frame itself
// (wsframe.go), so the pool is never drawn from.
var wsWritePool sync.Pool
