package srv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults of Config.
const (
	defaultTimeout = 2 * time.Second
	defaultMaxTTL  = time.Hour
	// systemTTL is how long an SRV answer of the system resolver is kept
	// where no DNS server could be found to ask directly (Windows without
	// Config.Server): net.Resolver does not tell the TTL.
	systemTTL  = time.Minute
	maxEntries = 4096
)

// Config configures a Client. The zero value asks the system's DNS.
type Config struct {
	// Server is a DNS server, "host:port" or a host (port 53), that every
	// lookup goes to: SRV records and addresses alike, the hosts file
	// unread. Default: SRV records from the name servers of
	// /etc/resolv.conf, addresses from the system's resolver (hosts file
	// and all).
	Server string
	// Timeout bounds one query to one server. Default: 2 s.
	Timeout time.Duration
	// MaxTTL bounds how long an answer is kept, whatever its TTL says.
	// Default: one hour.
	MaxTTL time.Duration
}

// Client is a Resolver that keeps answers (and "no such name" answers
// that come with the zone's SOA) for their TTL. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	servers []string // "" when only the system resolver can be asked
	now     func() time.Time

	mu    sync.Mutex
	cache map[cacheKey]entry
}

type cacheKey struct {
	qtype uint16
	name  string
}

type entry struct {
	srv   []*net.SRV
	addrs []netip.Addr
	err   error // a *net.DNSError with IsNotFound
	until time.Time
}

// New returns a Client. Without Config.Server it reads /etc/resolv.conf
// for the SRV lookups, where there is one.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = defaultMaxTTL
	}
	c := &Client{cfg: cfg, now: time.Now, cache: map[cacheKey]entry{}}
	switch {
	case cfg.Server != "":
		s := cfg.Server
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(strings.Trim(s, "[]"), "53")
		}
		c.servers = []string{s}
	case runtime.GOOS != "windows":
		if rc, err := dns.ClientConfigFromFile("/etc/resolv.conf"); err == nil {
			for _, s := range rc.Servers {
				c.servers = append(c.servers, net.JoinHostPort(s, rc.Port))
			}
		}
	}
	return c
}

// System is the Resolver used when none is configured: a Client asking
// the system's DNS.
func System() *Client { return New(Config{}) }

// LookupSRV implements Resolver.
func (c *Client) LookupSRV(ctx context.Context, service, proto, name string) ([]*net.SRV, error) {
	qname := "_" + service + "._" + proto + "." + strings.TrimSuffix(name, ".")
	if e, ok := c.cached(dns.TypeSRV, qname); ok {
		return e.srv, e.err
	}
	if len(c.servers) == 0 {
		_, recs, err := net.DefaultResolver.LookupSRV(ctx, service, proto, name)
		var de *net.DNSError
		if err == nil || errors.As(err, &de) && de.IsNotFound {
			c.store(dns.TypeSRV, qname, entry{srv: recs, err: err}, systemTTL)
		}
		return recs, err
	}
	msg, err := c.query(ctx, qname, dns.TypeSRV)
	if err != nil {
		return nil, err
	}
	var recs []*net.SRV
	ttl := c.cfg.MaxTTL
	for _, rr := range msg.Answer {
		if s, ok := rr.(*dns.SRV); ok {
			recs = append(recs, &net.SRV{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
			ttl = min(ttl, time.Duration(s.Hdr.Ttl)*time.Second)
		}
	}
	if len(recs) == 0 {
		return nil, c.notFound(qname, dns.TypeSRV, msg)
	}
	c.store(dns.TypeSRV, qname, entry{srv: recs}, ttl)
	return recs, nil
}

// LookupNetIP implements Resolver. Without Config.Server it is the
// system resolver's (which keeps nothing here: the system may cache).
func (c *Client) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	if c.cfg.Server == "" {
		return net.DefaultResolver.LookupNetIP(ctx, network, host)
	}
	var types []uint16
	switch network {
	case "ip4":
		types = []uint16{dns.TypeA}
	case "ip6":
		types = []uint16{dns.TypeAAAA}
	default:
		types = []uint16{dns.TypeA, dns.TypeAAAA}
	}
	var addrs []netip.Addr
	var firstErr error
	for _, t := range types {
		as, err := c.lookupAddrs(ctx, host, t)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		addrs = append(addrs, as...)
	}
	if len(addrs) > 0 {
		return addrs, nil
	}
	return nil, firstErr
}

// lookupAddrs asks for the A or AAAA records of host.
func (c *Client) lookupAddrs(ctx context.Context, host string, qtype uint16) ([]netip.Addr, error) {
	name := strings.TrimSuffix(host, ".")
	if e, ok := c.cached(qtype, name); ok {
		return e.addrs, e.err
	}
	msg, err := c.query(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	ttl := c.cfg.MaxTTL
	for _, rr := range msg.Answer {
		var ip net.IP
		switch r := rr.(type) {
		case *dns.A:
			ip = r.A
		case *dns.AAAA:
			ip = r.AAAA
		default:
			continue // the CNAMEs on the way
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a.Unmap())
			ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
		}
	}
	if len(addrs) == 0 {
		return nil, c.notFound(name, qtype, msg)
	}
	c.store(qtype, name, entry{addrs: addrs}, ttl)
	return addrs, nil
}

// notFound makes the error of an answer without records of the asked
// type, and keeps it for the negative TTL of the zone's SOA (RFC 2308),
// when the answer has one.
func (c *Client) notFound(name string, qtype uint16, msg *dns.Msg) error {
	err := &net.DNSError{Err: "no such host", Name: name, Server: c.servers[0], IsNotFound: true}
	if msg.Rcode == dns.RcodeSuccess {
		err.Err = "no " + dns.TypeToString[qtype] + " record"
	}
	for _, rr := range msg.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			ttl := min(soa.Hdr.Ttl, soa.Minttl)
			c.store(qtype, name, entry{err: err}, time.Duration(ttl)*time.Second)
			break
		}
	}
	return err
}

// query asks the servers in turn, over UDP and over TCP when the answer
// is truncated. An answer other than NOERROR or NXDOMAIN is an error.
func (c *Client) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	var lastErr error
	for _, server := range c.servers {
		for _, network := range []string{"udp", "tcp"} {
			qctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			cl := &dns.Client{Net: network, Timeout: c.cfg.Timeout}
			r, _, err := cl.ExchangeContext(qctx, m, server)
			cancel()
			if err != nil {
				lastErr = &net.DNSError{Err: err.Error(), Name: name, Server: server, IsTimeout: isTimeout(err), IsTemporary: true}
				break
			}
			if r.Truncated && network == "udp" {
				continue
			}
			switch r.Rcode {
			case dns.RcodeSuccess, dns.RcodeNameError:
				return r, nil
			}
			lastErr = &net.DNSError{Err: "server answered " + dns.RcodeToString[r.Rcode], Name: name, Server: server, IsTemporary: true}
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr == nil {
		lastErr = &net.DNSError{Err: "no DNS server to ask", Name: name}
	}
	return nil, fmt.Errorf("lookup %s %s: %w", dns.TypeToString[qtype], name, lastErr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *Client) cached(qtype uint16, name string) (entry, bool) {
	k := cacheKey{qtype, strings.ToLower(name)}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[k]
	if !ok {
		return entry{}, false
	}
	if !c.now().Before(e.until) {
		delete(c.cache, k)
		return entry{}, false
	}
	return e, true
}

// store keeps e for ttl (bounded by MaxTTL). The cache is bounded too:
// names come from requests, and a full cache first drops what expired,
// then anything.
func (c *Client) store(qtype uint16, name string, e entry, ttl time.Duration) {
	ttl = min(ttl, c.cfg.MaxTTL)
	if ttl <= 0 {
		return
	}
	now := c.now()
	e.until = now.Add(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxEntries {
		for k, old := range c.cache {
			if !now.Before(old.until) {
				delete(c.cache, k)
			}
		}
		for k := range c.cache {
			if len(c.cache) < maxEntries {
				break
			}
			delete(c.cache, k)
		}
	}
	c.cache[cacheKey{qtype, strings.ToLower(name)}] = e
}
