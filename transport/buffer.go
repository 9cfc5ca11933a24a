package transport

import "sync"

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

func (c *Conn) releaseBuf() {
	if c.wsBuf != nil {
		putBuf(c.wsBuf)
		c.wsBuf = nil
	}
}
