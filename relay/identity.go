package relay

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/msrpd/msrpd/msrp"
)

// identity knows which URIs address this relay: its advertised host and
// port, plus every alias and listening address it has learned. RFC 4975
// section 6.1 compares hosts case-insensitively and IP addresses as
// addresses.
type identity struct {
	scheme string
	host   string
	port   int

	mu    sync.RWMutex
	hosts map[string]bool
	ports map[int]bool
	// wildPorts are the ports of listeners on a wildcard address.
	wildPorts map[int]bool
}

func newIdentity(cfg *Config) *identity {
	id := &identity{
		scheme:    "msrp",
		host:      cfg.Host,
		port:      cfg.Port,
		hosts:     map[string]bool{},
		ports:     map[int]bool{cfg.Port: true},
		wildPorts: map[int]bool{},
	}
	if cfg.Secure {
		id.scheme = "msrps"
	}
	id.addHost(cfg.Host)
	for _, d := range cfg.Domains {
		id.addHost(d.Name)
		id.addHost(d.Host)
	}
	for _, a := range cfg.Aliases {
		if h, p, err := net.SplitHostPort(a); err == nil {
			id.addHost(h)
			if n, err := strconv.Atoi(p); err == nil {
				id.addPort(n)
			}
		} else {
			id.addHost(a)
		}
	}
	return id
}

func normHost(h string) string {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	return strings.ToLower(h)
}

func (id *identity) addHost(h string) {
	if h == "" {
		return
	}
	id.mu.Lock()
	id.hosts[normHost(h)] = true
	id.mu.Unlock()
}

func (id *identity) addPort(p int) {
	id.mu.Lock()
	id.ports[p] = true
	id.mu.Unlock()
}

// addListener learns a listening address. A wildcard address learns only
// the port: the advertised host stands for it.
func (id *identity) addListener(a net.Addr) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return
	}
	id.addPort(ta.Port)
	if !ta.IP.IsUnspecified() {
		id.addHost(ta.IP.String())
	} else {
		id.mu.Lock()
		id.wildPorts[ta.Port] = true
		id.mu.Unlock()
	}
	if ta.IP.IsLoopback() {
		id.addHost("localhost")
	}
}

// isOurs reports whether u addresses this relay. Only AUTH may leave the
// port out (RFC 4976 section 8).
func (id *identity) isOurs(u msrp.URI, portless bool) bool {
	id.mu.RLock()
	defer id.mu.RUnlock()
	// Most requests name the host as we do; normalizing costs a string.
	if !id.hosts[u.Host] && !id.hosts[normHost(u.Host)] {
		return false
	}
	if u.Port == 0 {
		return portless
	}
	return id.ports[u.Port]
}

// ownAddr reports whether a connection to ap could reach this relay: an
// address it listens on or advertises with one of its ports, any address
// of this machine on the port of a wildcard listener, or the unspecified
// address (which reaches this machine) on any of its ports.
func (id *identity) ownAddr(ap netip.AddrPort) bool {
	a, port := ap.Addr().Unmap(), int(ap.Port())
	id.mu.RLock()
	known := id.ports[port] && id.hosts[a.String()]
	wild := id.wildPorts[port]
	ours := id.ports[port] || wild
	id.mu.RUnlock()
	switch {
	case known:
		return true
	case !ours:
		return false
	case a.IsUnspecified():
		return true
	case wild:
		return a.IsLoopback() || isLocalAddr(a)
	}
	return false
}

// isLocalAddr reports whether a is an address of one of this machine's
// interfaces.
func isLocalAddr(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if b, ok := netip.AddrFromSlice(n.IP); ok && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}

// sessionURI is the Use-Path URI for a session id on host (the relay's
// host or a domain's), and the id again as a part of it, so that a
// session keeps one string for both. Its transport is tcp even for
// WebSocket clients (RFC 7977 section 8).
func (id *identity) sessionURI(host, sid string) (uri, inURI string) {
	prefix := id.scheme + "://" + net.JoinHostPort(host, strconv.Itoa(id.port)) + "/"
	uri = prefix + sid + ";tcp"
	return uri, uri[len(prefix) : len(prefix)+len(sid)]
}

// domainIndex finds the domain of an AUTH by the host its To-Path names.
type domainIndex map[string]Domain

// newDomainIndex indexes each domain by its name, and by its Use-Path
// host where that host is its alone (not the relay's own host, not
// shared with another domain).
func newDomainIndex(cfg *Config) domainIndex {
	idx := domainIndex{}
	hosts := map[string]int{normHost(cfg.Host): 2}
	for _, d := range cfg.Domains {
		hosts[normHost(d.Host)]++
	}
	for _, d := range cfg.Domains {
		if hosts[normHost(d.Host)] == 1 {
			idx[normHost(d.Host)] = d
		}
	}
	for _, d := range cfg.Domains {
		idx[normHost(strings.TrimSuffix(d.Name, "."))] = d
	}
	return idx
}

// realm returns the realm and Use-Path host for an AUTH to host.
func (idx domainIndex) lookup(host string, cfg *Config) (realm, useHost string) {
	if d, ok := idx[normHost(strings.TrimSuffix(host, "."))]; ok {
		return d.Name, d.Host
	}
	return cfg.Realm, cfg.Host
}

// isOurURI reports whether s is a URI of this relay (a session URI or the
// base URI).
func (s *Server) isOurURI(raw string) bool {
	u, err := msrp.ParseURI(raw)
	return err == nil && s.id.isOurs(u, false)
}
