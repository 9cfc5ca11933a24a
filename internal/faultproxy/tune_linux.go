package faultproxy

import "syscall"

// internetMSS is the segment size of the proxy's connection to its target.
// Loopback's 64 KiB segments make a slow reader's window reopen only after
// 64 KiB were read, seconds at a low rate; on a real path it reopens every
// 1.4 KB, and senders see steady progress.
const internetMSS = 1400

// tuneUpstream sets the segment size, and the buffer sizes when bufSize >
// 0, of the socket to the target before it connects (so the window scale
// is negotiated for them).
func tuneUpstream(fd uintptr, bufSize int) {
	sock := int(fd)
	_ = syscall.SetsockoptInt(sock, syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, internetMSS)
	if bufSize > 0 {
		_ = syscall.SetsockoptInt(sock, syscall.SOL_SOCKET, syscall.SO_RCVBUF, bufSize)
		_ = syscall.SetsockoptInt(sock, syscall.SOL_SOCKET, syscall.SO_SNDBUF, bufSize)
	}
}
