package transport

import (
	"crypto/tls"
	"net"
)

// A listener may wrap the connections it accepts (relay counts them
// against its connection limit from accept on). A wrapper that exposes
// the connection it wraps with a NetConn method, as *tls.Conn does, keeps
// what this package does with the socket itself: TCP_NOTSENT_LOWAT,
// writev, read-ahead without a buffer, half-close. Reads, writes,
// deadlines and Close still go through the wrapper.

// netConner is a net.Conn wrapping another, as *tls.Conn does.
type netConner interface{ NetConn() net.Conn }

// maxWrap bounds the unwrapping, against a wrapper that wraps itself.
const maxWrap = 8

// plainTCP returns the TCP socket under nc when no TLS lies between, else
// nil: writes to a TLS connection must go through TLS.
func plainTCP(nc net.Conn) *net.TCPConn {
	for range maxWrap {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c
		case *tls.Conn:
			return nil
		case netConner:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// socketOf returns the TCP socket under nc, TLS or not, or nil.
func socketOf(nc net.Conn) *net.TCPConn {
	for range maxWrap {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c
		case netConner:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}
