package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// ServeStream accepts MSRP connections on l, plain TCP or, when
// cfg.TLSConfig is set, TLS (mutual TLS when its ClientAuth asks for
// client certificates). Each connection is handshaken (within
// HandshakeTimeout) and handled in a goroutine of its own: handle runs
// the read loop, and the Conn is closed when handle returns.
//
// ServeStream returns when l fails; once l is closed the error wraps
// net.ErrClosed. It does not wait for the handlers; the caller tracks
// its connections for shutdown.
func ServeStream(l net.Listener, cfg Config, handle func(*Conn)) error {
	c, err := cfg.normalize()
	if err != nil {
		return err
	}
	kind := KindTCP
	if c.TLSConfig != nil {
		kind = KindTLS
	}
	var delay time.Duration
	failures := 0
	for {
		nc, err := l.Accept()
		if err != nil {
			var ne net.Error
			if !errors.Is(err, net.ErrClosed) && errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: back off as
				// net/http does rather than spin, and say so once per
				// outage rather than once per retry.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				if failures == 0 {
					c.log.Warnf("accept on %s: %v; retrying with backoff", l.Addr(), err)
				}
				failures++
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("transport: serve %s %s: %w", kind, l.Addr(), err)
		}
		if failures > 0 {
			c.log.Infof("accept on %s works again after %d failures", l.Addr(), failures)
			failures = 0
		}
		delay = 0
		go serveStreamConn(c, kind, nc, handle)
	}
}

func serveStreamConn(c *config, kind Kind, nc net.Conn, handle func(*Conn)) {
	if kind == KindTLS {
		tc := tls.Server(nc, c.TLSConfig)
		ctx, cancel := context.WithTimeout(context.Background(), c.HandshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.log.Infof("refused TLS connection from %s: handshake: %v", nc.RemoteAddr(), err)
			_ = nc.Close()
			return
		}
		nc = tc
	}
	conn, err := newConn(c, kind, nc, false)
	if err != nil {
		c.log.Errorf("connection from %s: %v", nc.RemoteAddr(), err)
		return
	}
	defer conn.Close(ReasonLocal, "handler returned")
	handle(conn)
}
