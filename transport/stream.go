package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// ServeStream accepts MSRP connections over plain TCP on l and handles
// each in a goroutine of its own: handle runs the read loop, and the Conn
// is closed when handle returns. It may run on any number of listeners at
// once.
//
// ServeStream returns when l fails; once l is closed the error wraps
// net.ErrClosed, and after Close it is ErrHostClosed. It does not wait
// for the handlers; the caller tracks its connections for shutdown.
func (h *Host) ServeStream(l net.Listener, handle func(*Conn)) error {
	return h.serveStream(l, KindTCP, nil, handle)
}

// ServeTLS is ServeStream over TLS with Config.TLSConfig (mutual TLS when
// its ClientAuth asks for client certificates). Each handshake must end
// within HandshakeTimeout; one that fails is logged and closed.
func (h *Host) ServeTLS(l net.Listener, handle func(*Conn)) error {
	if h.cfg.TLSConfig == nil {
		return fmt.Errorf("%w: ServeTLS needs Config.TLSConfig", ErrBadConfig)
	}
	return h.serveStream(l, KindTLS, h.cfg.TLSConfig, handle)
}

func (h *Host) serveStream(l net.Listener, kind Kind, tlsConfig *tls.Config, handle func(*Conn)) error {
	if !h.addListener(l) {
		_ = l.Close()
		return ErrHostClosed
	}
	defer h.removeListener(l)
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
					h.log.Warnf("accept on %s: %v; retrying with backoff", l.Addr(), err)
				}
				failures++
				time.Sleep(delay)
				continue
			}
			if h.isClosed() {
				return ErrHostClosed
			}
			return fmt.Errorf("transport: serve %s %s: %w", kind, l.Addr(), err)
		}
		if failures > 0 {
			h.log.Infof("accept on %s works again after %d failures", l.Addr(), failures)
			failures = 0
		}
		delay = 0
		go h.serveStreamConn(kind, tlsConfig, nc, handle)
	}
}

func (h *Host) serveStreamConn(kind Kind, tlsConfig *tls.Config, nc net.Conn, handle func(*Conn)) {
	if kind == KindTLS {
		tc := tls.Server(nc, tlsConfig)
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.HandshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			h.tlsFailures.Add(1)
			h.log.Infof("refused TLS connection from %s: handshake: %v", nc.RemoteAddr(), err)
			_ = nc.Close()
			return
		}
		nc = tc
	}
	conn, err := h.newConn(kind, nc, false)
	if err != nil {
		h.log.Infof("connection from %s: %v", nc.RemoteAddr(), err)
		return
	}
	defer conn.Close(ReasonLocal, "handler returned")
	handle(conn)
}
