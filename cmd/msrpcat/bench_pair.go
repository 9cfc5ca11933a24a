package main

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msrpd/msrpd/endpoint"
)

// Bench payload layout: every message carries its sequence number, its
// send time on the process's monotonic clock, its pair and a checksum, so
// the receiver detects loss, duplication and corruption and measures
// latency without shared state.
const (
	offSeq    = 0
	offTime   = 8
	offPair   = 16
	offCRC    = 20
	headerLen = 24
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// payloadCRC covers everything but the checksum field itself.
func payloadCRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[:offCRC])
	return crc32.Update(c, castagnoli, b[headerLen:])
}

// pair is one sender endpoint A and one receiver endpoint B.
type pair struct {
	idx  int
	b    *bench
	a, r *endpoint.Endpoint
	to   string // A's Use-Path + B's path

	free chan []byte // payload buffers not in flight

	// Sender side, updated by done callbacks.
	sent   atomic.Int64
	acked  atomic.Int64
	failed atomic.Int64
	inFly  sync.WaitGroup

	// Receiver side, owned by B's reader goroutine (OnMessage).
	seen      []uint64 // bitset of received sequence numbers
	received  atomic.Int64
	dups      int64
	corrupt   int64
	latencies []int64 // nanoseconds
	lastRecv  atomic.Int64
	bodies    [][]byte // checked bodies, reused for the next messages
}

// newBody is B's endpoint.Config.NewBody: a checked body if there is one.
// Without reuse, a fast receiver spends more time clearing and collecting
// fresh buffers than the relay spends relaying them.
func (p *pair) newBody(size int64) []byte {
	if n := len(p.bodies); n > 0 && int64(len(p.bodies[n-1])) >= size {
		b := p.bodies[n-1]
		p.bodies = p.bodies[:n-1]
		return b
	}
	return make([]byte, size)
}

// fill writes message seq into buf.
func (p *pair) fill(buf []byte, seq uint64) {
	pool := p.b.filler
	n := len(buf) - headerLen
	start := int(seq*7919) % (len(pool) - n + 1)
	copy(buf[headerLen:], pool[start:start+n])
	binary.LittleEndian.PutUint64(buf[offSeq:], seq)
	binary.LittleEndian.PutUint64(buf[offTime:], uint64(p.b.now()))
	binary.LittleEndian.PutUint32(buf[offPair:], uint32(p.idx))
	binary.LittleEndian.PutUint32(buf[offCRC:], payloadCRC(buf))
}

// run sends until the message count or the deadline is reached.
func (p *pair) run(ctx context.Context, n int64, until time.Time, interval time.Duration) {
	start := time.Now()
	opts := endpoint.SendOptions{}
	for seq := int64(0); n <= 0 || seq < n; seq++ {
		if ctx.Err() != nil || (!until.IsZero() && time.Now().After(until)) {
			break
		}
		if interval > 0 {
			if d := time.Until(start.Add(time.Duration(seq) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		var buf []byte
		select {
		case buf = <-p.free:
		case <-ctx.Done():
			return
		}
		p.fill(buf, uint64(seq))
		p.sent.Add(1)
		p.inFly.Add(1)
		p.a.SendAsync(ctx, p.to, "application/octet-stream", buf, opts, func(err error) {
			if err != nil {
				p.failed.Add(1)
				p.b.noteError(p.idx, err)
			} else {
				p.acked.Add(1)
			}
			p.free <- buf
			p.inFly.Done()
		})
	}
}

// receive checks one delivered message (B's reader goroutine).
func (p *pair) receive(m *endpoint.Message) {
	now := p.b.now()
	b := m.Body
	if cap(b) >= p.b.size && len(p.bodies) < 64 {
		// Done with it when receive returns: the endpoint keeps no reference.
		defer func() { p.bodies = append(p.bodies, b[:cap(b)]) }()
	}
	if int(m.Size) != p.b.size || len(b) != p.b.size ||
		binary.LittleEndian.Uint32(b[offCRC:]) != payloadCRC(b) ||
		int(binary.LittleEndian.Uint32(b[offPair:])) != p.idx {
		p.corrupt++
		return
	}
	seq := binary.LittleEndian.Uint64(b[offSeq:])
	w := int(seq / 64)
	if w >= len(p.seen) {
		p.seen = append(p.seen, make([]uint64, w+1-len(p.seen))...)
	}
	if p.seen[w]&(1<<(seq%64)) != 0 {
		p.dups++
		return
	}
	p.seen[w] |= 1 << (seq % 64)
	p.received.Add(1)
	p.latencies = append(p.latencies, now-int64(binary.LittleEndian.Uint64(b[offTime:])))
	p.lastRecv.Store(now)
}
