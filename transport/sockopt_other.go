//go:build !linux

package transport

import "net"

// tuneSocket does nothing where TCP_NOTSENT_LOWAT is not known.
func tuneSocket(net.Conn) {}
