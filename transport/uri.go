package transport

import (
	"net"
	"strings"

	"github.com/msrpd/msrpd/msrp"
)

// PeerURI returns the peer's MSRP URI: the first From-Path URI of its
// latest request, or, before any, a URI formed from its address. It is the
// To-Path of our bodiless-SEND probes.
func (c *Conn) PeerURI() string {
	if p := c.peerURI.Load(); p != nil {
		return *p
	}
	return c.addrURI(c.nc.RemoteAddr())
}

// LocalURI returns our MSRP URI as the peer knows it: the first To-Path
// URI of its latest request, else Config.LocalURI, else a URI formed from
// our address. It is the From-Path of our bodiless-SEND probes.
func (c *Conn) LocalURI() string {
	if p := c.localURI.Load(); p != nil {
		return *p
	}
	if c.h.cfg.LocalURI != "" {
		return c.h.cfg.LocalURI
	}
	return c.addrURI(c.nc.LocalAddr())
}

// learn records the URIs of a request. It copies a URI only when it
// changed, so the header block the strings point into is not retained.
func (c *Conn) learn(m *msrp.Message) {
	if u := firstField(m.Header(msrp.HeaderFromPath)); u != "" {
		if p := c.peerURI.Load(); p == nil || *p != u {
			s := strings.Clone(u)
			c.peerURI.Store(&s)
		}
	}
	if u := firstField(m.Header(msrp.HeaderToPath)); u != "" {
		if p := c.localURI.Load(); p == nil || *p != u {
			s := strings.Clone(u)
			c.localURI.Store(&s)
		}
	}
}

// addrURI forms an MSRP URI from a network address, for a peer whose own
// URI we have not learned yet: msrps for TLS and wss, transport ws for
// WebSocket.
func (c *Conn) addrURI(a net.Addr) string {
	u := msrp.URI{Scheme: "msrp", Transport: "tcp"}
	if c.kind == KindTLS || c.kind == KindWSS {
		u.Scheme = "msrps"
	}
	if c.kind.IsWebSocket() {
		u.Transport = "ws"
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		u.Host, u.Port = ta.IP.String(), ta.Port
	} else if a != nil {
		u.Host = "invalid.invalid"
	}
	return u.String()
}

func firstField(s string) string {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}
