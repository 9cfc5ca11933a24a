package transport

import "sync"

// Write buffers are pooled: a chunk is encoded into one for a Send and
// the buffer is given back once written. Buffers grown past maxPooled are
// left to the collector, so a rare large chunk does not pin memory.
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
