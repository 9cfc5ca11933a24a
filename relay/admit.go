package relay

import (
	"net"
	"sync/atomic"
)

// Connections count against Config.MaxConnections from the moment they
// are accepted, not from when the transport hands them over: a TLS
// handshake or a WebSocket upgrade may take the whole HandshakeTimeout,
// and a flood of half-done handshakes must not outgrow the limit
// meanwhile (F7). The Serve methods accept through admitListener; a
// connection over the limit is closed at once, with a log line naming
// it. A connection that reaches handle without it (WebSocketHandler on
// the caller's own http.Server) is counted there.

// admitListener counts every connection it accepts until it closes.
type admitListener struct {
	net.Listener
	s *Server
}

// Accept returns the next connection within the limit; those beyond it
// are closed as they come.
func (l admitListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.admit(nc.RemoteAddr()) {
			return &admittedConn{Conn: nc, s: l.s}, nil
		}
		_ = nc.Close()
	}
}

// admit counts a new connection, or refuses it with a log line when the
// limit is reached.
func (s *Server) admit(addr net.Addr) bool {
	max := s.cfg.MaxConnections
	if n := s.stats.conns.Add(1); max > 0 && n > int64(max) {
		s.stats.conns.Add(-1)
		s.stats.refused.Add(1)
		s.log.Warnf("%s: refused: %d connections already (--max-connections)", addr, max)
		return false
	}
	return true
}

// admittedConn is an accepted connection counted until its first Close.
// It exposes the connection it wraps with NetConn, as *tls.Conn does, so
// that the transport still works on the socket itself.
type admittedConn struct {
	net.Conn
	s      *Server
	closed atomic.Bool
}

// NetConn returns the wrapped connection.
func (c *admittedConn) NetConn() net.Conn { return c.Conn }

// Close closes the connection and ends its count.
func (c *admittedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// release ends the count once: at Close, or earlier when the relay is done
// with the connection and only a lingering close is left.
func (c *admittedConn) release() {
	if c.closed.CompareAndSwap(false, true) {
		c.s.stats.conns.Add(-1)
	}
}

// admittedOf returns nc, maybe under TLS, as an admittedConn, or nil when
// it did not come through an admitListener.
func admittedOf(nc net.Conn) *admittedConn {
	for range 4 {
		switch c := nc.(type) {
		case *admittedConn:
			return c
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}
