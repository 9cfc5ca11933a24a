package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// nextHop returns a connection to the relay that u names, dialling it on
// first use and reusing it afterwards (RFC 4976 section 6.4.2). msrp URIs
// are reached over TCP, msrps URIs over TLS.
func (s *Server) nextHop(u msrp.URI) (*peer, error) {
	port := u.Port
	if port == 0 {
		port = defaultPort // RFC 4976 section 8 (no SRV lookup here)
	}
	addr := net.JoinHostPort(u.Host, strconv.Itoa(port))
	key := u.Scheme + "://" + addr

	s.mu.Lock()
	if p := s.outbound[key]; p != nil {
		s.mu.Unlock()
		return p, nil
	}
	call := s.dialing[key]
	if call == nil {
		call = &dialCall{done: make(chan struct{})}
		s.dialing[key] = call
		s.mu.Unlock()
		call.p, call.err = s.dial(key, u.Scheme, u.Host, addr)
		s.mu.Lock()
		delete(s.dialing, key)
		if call.err == nil {
			s.outbound[key] = call.p
		}
		close(call.done)
		s.mu.Unlock()
	} else {
		s.mu.Unlock()
		<-call.done
	}
	return call.p, call.err
}

// dialCall lets concurrent requests for one next hop share a single dial.
type dialCall struct {
	done chan struct{}
	p    *peer
	err  error
}

func (s *Server) dial(key, scheme, host, addr string) (*peer, error) {
	if s.shutting.Load() {
		return nil, ErrServerClosed
	}
	cfg := s.cfg.Transport
	cfg.TLSConfig = nil
	target := "tcp://" + addr
	if scheme == "msrps" {
		tc := &tls.Config{}
		if s.cfg.OutboundTLS != nil {
			tc = s.cfg.OutboundTLS.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = host
		}
		cfg.TLSConfig = tc
		target = "tls://" + addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DialTimeout)
	defer cancel()
	c, err := transport.Dial(ctx, target, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	p := newPeer(s, c, true)
	if !s.track(p) {
		c.Close(transport.ReasonShutdown, "relay shutting down")
		return nil, ErrServerClosed
	}
	s.log.Infof("%s: outbound connection to next hop %s", p.addr, key)
	go func() {
		defer s.wg.Done()
		p.serve()
		s.mu.Lock()
		if s.outbound[key] == p {
			delete(s.outbound, key)
		}
		s.mu.Unlock()
	}()
	return p, nil
}
