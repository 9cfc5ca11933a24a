//go:build linux

package ws

import (
	"io"
	"net"
	"os"
	"syscall"
)

// ReadAhead says whether a Reader reads ahead on plain TCP: it waits for
// input without holding a buffer, then takes all that has arrived in one
// system call. TLS has no read-ahead of ours: crypto/tls buffers whole
// records itself.
const ReadAhead = true

// readAhead is the socket a Reader reads ahead from.
type readAhead struct {
	raw syscall.RawConn
	// readFD is Reader.readFD, bound once: a method value made for every
	// raw.Read would be an allocation per frame.
	readFD func(fd uintptr) bool
	errno  syscall.Errno // error of the last read-ahead
}

func (r *Reader) initReadAhead(sock *net.TCPConn) {
	if raw, err := sock.SyscallConn(); err == nil {
		r.ra.raw, r.ra.readFD = raw, r.readFD
	}
}

func (r *Reader) canReadAhead() bool { return r.ra.raw != nil }

// fill waits until the socket has input and reads all it holds, up to
// aheadSize, into a pooled buffer. The buffer is taken only once input is
// there, so an idle connection waits without one; read deadlines and a
// concurrent Close end the wait as they end any read.
func (r *Reader) fill() error {
	err := r.ra.raw.Read(r.ra.readFD)
	switch {
	case err != nil:
	case r.ra.errno != 0:
		err = os.NewSyscallError("read", r.ra.errno)
	case r.end == 0:
		err = io.EOF
	default:
		return nil
	}
	r.Release()
	return err
}

// readFD is fill's callback to raw.Read, called when the socket may have
// input; it returns false to have raw.Read wait for more.
func (r *Reader) readFD(fd uintptr) bool {
	if r.ahead == nil {
		r.ahead = aheadPool.Get().(*[aheadSize]byte)
	}
	var n int
	var err error
	for {
		n, err = syscall.Read(int(fd), r.ahead[:])
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EAGAIN {
		r.Release() // wait without the buffer
		return false
	}
	r.pos, r.end, r.ra.errno = 0, int32(max(n, 0)), 0
	if err != nil {
		r.ra.errno, _ = err.(syscall.Errno)
		if r.ra.errno == 0 {
			r.ra.errno = syscall.EIO // cannot happen: syscall.Read fails with an Errno
		}
	}
	return true
}
