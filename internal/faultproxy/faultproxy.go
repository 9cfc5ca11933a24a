// Package faultproxy is a TCP proxy for tests that injects network faults
// between a client and a server on loopback: it can stall a direction
// (stop reading, so the sender's socket buffers fill and its writes block),
// blackhole it (read and discard, keeping both sockets open: a dead peer
// that sends no FIN), throttle it to a byte rate, fragment it into
// segments of random sizes, and cut every connection with a TCP RST.
//
// A Proxy listens on 127.0.0.1:0 and dials its target for each accepted
// connection. Faults apply to every connection, present and future, and
// can be changed at any time from any goroutine.
//
// Each proxied connection costs two goroutines (one per direction); Close
// ends them all and waits for them.
package faultproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Direction selects the traffic a fault applies to.
type Direction int

// Directions. Up is client to target, Down is target to client.
const (
	Up   Direction = 1 << iota // from the dialling client to the target
	Down                       // from the target back to the client
	Both = Up | Down
)

// mode is what a direction does with its bytes.
type mode int

const (
	modeForward   mode = iota // pass bytes on
	modeStall                 // read nothing
	modeBlackhole             // read and discard
)

// dirState is one direction's fault.
type dirState struct {
	mode mode
	rate int // bytes per second, 0 = unlimited
	frag int // largest segment when fragmenting, 0 = as read
}

// Proxy forwards TCP connections to a target and injects faults. Create it
// with New; the zero value is not usable.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	bufSize int
	rng     *rand.Rand    // segment sizes for Fragment
	state   [2]dirState   // index 0 Up, 1 Down
	changed chan struct{} // closed and replaced on every fault change
	links   map[*link]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// link is one proxied connection.
type link struct {
	client, server *net.TCPConn
	done           chan struct{}
	once           sync.Once
	pumps          atomic.Int32 // directions still running
}

func (l *link) close(rst bool) {
	l.once.Do(func() {
		if rst {
			_ = l.client.SetLinger(0)
			_ = l.server.SetLinger(0)
		}
		_ = l.client.Close()
		_ = l.server.Close()
		close(l.done)
	})
}

// New starts a proxy on 127.0.0.1:0 that forwards to target (host:port).
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, changed: make(chan struct{}), links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the proxy's listening address (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Conns returns the number of proxied connections open now.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		n := p.bufSize
		p.mu.Unlock()
		d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { tuneUpstream(fd, n) })
		}}
		s, err := d.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		l := &link{client: c.(*net.TCPConn), server: s.(*net.TCPConn), done: make(chan struct{})}
		if n > 0 {
			_ = l.client.SetReadBuffer(n)
			_ = l.client.SetWriteBuffer(n)
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close(false)
			return
		}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		l.pumps.Store(2)
		p.mu.Unlock()
		go p.pump(l, 0, l.client, l.server)
		go p.pump(l, 1, l.server, l.client)
	}
}

// pump copies one direction of one link, obeying that direction's fault.
func (p *Proxy) pump(l *link, dir int, src, dst *net.TCPConn) {
	defer p.wg.Done()
	defer func() {
		// Once neither direction runs, nothing will ever use the link.
		if l.pumps.Add(-1) == 0 {
			p.drop(l, false)
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		st, changed := p.get(dir)
		if st.mode == modeStall {
			select {
			case <-changed:
				continue
			case <-l.done:
				return
			}
		}
		// A throttled direction reads no more than it passes on in one
		// step, like a steady slow reader, rather than swallowing 32 KiB
		// and going quiet while it trickles them out.
		size := len(buf)
		if st.rate > 0 {
			size = max(1, min(size, st.rate/20))
		}
		n, err := src.Read(buf[:size])
		if n > 0 {
			// The fault may have changed while Read waited, so it is
			// applied to the bytes read, not to the Read.
			if werr := p.deliver(l, dir, dst, buf[:n]); werr != nil {
				if werr == errLinkDone {
					return
				}
				err = werr
			}
		}
		if err != nil {
			if st, _ := p.get(dir); st.mode == modeBlackhole {
				// A dead peer says nothing, not even FIN: wait for a
				// Cut, Close or the other direction to end the link.
				if !errors.Is(err, io.EOF) {
					p.drop(l, false)
				}
				return
			}
			if errors.Is(err, io.EOF) {
				// Pass the half-close on; the other direction may go on.
				_ = dst.CloseWrite()
				return
			}
			p.drop(l, false)
			return
		}
	}
}

var errLinkDone = errors.New("faultproxy: link closed")

// deliver writes b to dst under the direction's current fault: it waits
// while stalled, drops while blackholed, and paces while throttled (in
// pieces of a twentieth of the rate, each sent after its share of time).
func (p *Proxy) deliver(l *link, dir int, dst *net.TCPConn, b []byte) error {
	for len(b) > 0 {
		st, changed := p.get(dir)
		switch st.mode {
		case modeStall:
			select {
			case <-changed:
				continue
			case <-l.done:
				return errLinkDone
			}
		case modeBlackhole:
			return nil
		}
		n := len(b)
		if st.frag > 0 {
			n = min(n, p.segment(st.frag))
		}
		if st.rate > 0 {
			n = min(n, max(1, st.rate/20))
			select {
			case <-time.After(time.Duration(n) * time.Second / time.Duration(st.rate)):
			case <-changed:
				continue // re-read the fault
			case <-l.done:
				return errLinkDone
			}
		}
		if _, err := dst.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (p *Proxy) drop(l *link, rst bool) {
	l.close(rst)
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

func (p *Proxy) get(dir int) (dirState, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state[dir], p.changed
}

func (p *Proxy) set(d Direction, f func(*dirState)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, bit := range []Direction{Up, Down} {
		if d&bit != 0 {
			f(&p.state[i])
		}
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// SetBufferSize sets SO_RCVBUF and SO_SNDBUF of both sockets of the
// connections accepted from now on, so that a stalled or throttled
// direction pushes back on its sender after about n bytes rather than
// after the kernel's autotuned megabytes. 0 leaves the kernel's default.
func (p *Proxy) SetBufferSize(n int) {
	p.mu.Lock()
	p.bufSize = n
	p.mu.Unlock()
}

// Stall holds back direction d: at most one read buffer (32 KiB) is taken
// from the socket and held, the rest waits in the sender's socket buffers
// and, once those are full, the sender's writes block.
func (p *Proxy) Stall(d Direction) { p.set(d, func(s *dirState) { s.mode = modeStall }) }

// Blackhole discards every byte in direction d while keeping the sockets
// open, like a peer that vanished without a FIN. An end of input in a
// blackholed direction is not passed on either.
func (p *Proxy) Blackhole(d Direction) { p.set(d, func(s *dirState) { s.mode = modeBlackhole }) }

// Throttle limits direction d to bytesPerSec (0 removes the limit). It
// combines with forwarding only: a stalled or blackholed direction stays so.
func (p *Proxy) Throttle(d Direction, bytesPerSec int) {
	p.set(d, func(s *dirState) { s.rate = max(0, bytesPerSec) })
}

// Fragment writes the bytes of direction d in segments of random sizes
// from 1 to maxSize, each its own write (Go sockets send without Nagle's
// delay, so each leaves as its own TCP segment), drawn from a generator
// seeded with seed: the reads at the far end end at arbitrary places,
// as over a real network. maxSize 0 ends fragmenting.
func (p *Proxy) Fragment(d Direction, maxSize int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// set holds p.mu: the generator is in place before a pump can see
	// the new segment size.
	p.set(d, func(s *dirState) {
		p.rng = rng
		s.frag = max(0, maxSize)
	})
}

// segment draws one segment size from 1 to limit.
func (p *Proxy) segment(limit int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return 1 + p.rng.IntN(limit)
}

// Resume ends Stall and Blackhole in direction d; a throttle stays.
func (p *Proxy) Resume(d Direction) { p.set(d, func(s *dirState) { s.mode = modeForward }) }

// Cut resets every proxied connection at once (TCP RST to both ends).
// New connections are still accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		p.drop(l, true)
	}
}

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
