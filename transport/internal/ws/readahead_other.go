//go:build !linux

package ws

import "net"

// ReadAhead says whether a Reader reads ahead on plain TCP: only on
// Linux. Elsewhere frames are read straight from the connection.
const ReadAhead = false

type readAhead struct{}

func (r *Reader) initReadAhead(*net.TCPConn) {}

func (r *Reader) canReadAhead() bool { return false }

func (r *Reader) fill() error { return nil } // never called: canReadAhead is false
