//go:build !unix

package transport

import "net"

// init prepares nothing: read-ahead by raw system calls is for Unix
// systems. Elsewhere frames are read straight from the connection.
func (r *wsReader) init(net.Conn) {}
