package transport

import (
	"net"
	"syscall"
)

// tcpNotSentLowat is TCP_NOTSENT_LOWAT from linux/tcp.h (not in syscall).
const tcpNotSentLowat = 25

// notSentLowat bounds the bytes the kernel holds unsent on a connection.
// Without it the send buffer autotunes to megabytes: a slow receiver's
// backlog then sits in the kernel, out of any bound of ours, and a blocked
// write wakes only after a third of it drained, so a reader that keeps up
// at a low rate looks stalled. With it, writes move in small steps and the
// write deadline measures real progress.
const notSentLowat = 128 << 10

// tuneSocket applies notSentLowat to the TCP socket under nc.
func tuneSocket(nc net.Conn) {
	tcp := socketOf(nc)
	if tcp == nil {
		return
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat, notSentLowat)
	})
}
