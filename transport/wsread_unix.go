//go:build unix

package transport

import (
	"net"
	"syscall"
)

// init prepares read-ahead when nc is plain TCP.
func (r *wsReader) init(nc net.Conn) {
	if tc := plainTCP(nc); tc != nil {
		if raw, err := tc.SyscallConn(); err == nil {
			r.raw, r.readFD = raw, r.readAhead
		}
	}
}

// readAhead is fill's callback to raw.Read, called when the socket may
// have input; it returns false to have raw.Read wait for more.
func (r *wsReader) readAhead(fd uintptr) bool {
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
		r.release() // wait without the buffer
		return false
	}
	r.pos, r.end, r.errno = 0, int32(max(n, 0)), 0
	if err != nil {
		r.errno, _ = err.(syscall.Errno)
		if r.errno == 0 {
			r.errno = syscall.EIO // cannot happen: syscall.Read fails with an Errno
		}
	}
	return true
}
