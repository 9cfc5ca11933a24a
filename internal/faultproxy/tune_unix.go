//go:build !windows

package faultproxy

import "syscall"

// tuneUpstream sets the segment size, and the buffer sizes when bufSize >
// 0, of the socket to the target before it connects (so the window scale
// is negotiated for them).
func tuneUpstream(fd, bufSize int) {
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, internetMSS)
	if bufSize > 0 {
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, bufSize)
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, bufSize)
	}
}
