// Package dnstest runs a small authoritative DNS server on loopback for
// tests: SRV, A and AAAA records set by the test, counted queries, and an
// SOA in the answers that have no records (so negative answers can be
// cached). It is built on github.com/miekg/dns.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a DNS server on 127.0.0.1 (UDP and TCP on one port).
type Server struct {
	// Addr is "127.0.0.1:PORT", what srv.Config.Server and msrpd's --dns
	// take.
	Addr string

	udp, tcp *dns.Server
	mu       sync.Mutex
	records  map[key][]dns.RR
	queries  map[key]int
	// NegativeTTL is the SOA minimum of answers without records.
	negTTL uint32
}

type key struct {
	name  string
	qtype uint16
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{records: map[key][]dns.RR{}, queries: map[key]int{}, negTTL: 60}
	// One port for both: bind TCP first, then UDP on its port (retrying
	// in the rare case that UDP port is taken).
	var pc net.PacketConn
	var l net.Listener
	for i := 0; ; i++ {
		var err error
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("dnstest: %v", err)
		}
		pc, err = net.ListenPacket("udp", l.Addr().String())
		if err == nil {
			break
		}
		l.Close()
		if i == 10 {
			t.Fatalf("dnstest: %v", err)
		}
	}
	s.Addr = l.Addr().String()
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: l, Handler: h}
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	t.Cleanup(func() {
		s.udp.Shutdown()
		s.tcp.Shutdown()
	})
	return s
}

// Add adds records in zone-file form, e.g.
// "_msrps._tcp.farm.test. 60 IN SRV 10 50 2855 r1.farm.test." It panics on
// a malformed record (a test's own typo).
func (s *Server) Add(records ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			panic("dnstest: " + err.Error())
		}
		k := key{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
		s.records[k] = append(s.records[k], rr)
	}
}

// Remove removes every record of name (any type).
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.records {
		if k.name == strings.ToLower(dns.Fqdn(name)) {
			delete(s.records, k)
		}
	}
}

// SetNegativeTTL sets the SOA minimum sent with answers that have no
// records (default 60 s).
func (s *Server) SetNegativeTTL(secs uint32) {
	s.mu.Lock()
	s.negTTL = secs
	s.mu.Unlock()
}

// Queries returns how many queries for name and type (dns.TypeSRV, ...)
// the server answered.
func (s *Server) Queries(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[key{strings.ToLower(dns.Fqdn(name)), qtype}]
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		k := key{strings.ToLower(q.Name), q.Qtype}
		s.mu.Lock()
		s.queries[k]++
		m.Answer = append(m.Answer, s.records[k]...)
		exists := false
		for rk := range s.records {
			exists = exists || rk.name == k.name
		}
		neg := s.negTTL
		s.mu.Unlock()
		if len(m.Answer) == 0 {
			if !exists {
				m.Rcode = dns.RcodeNameError
			}
			m.Ns = []dns.RR{&dns.SOA{
				Hdr: dns.RR_Header{Name: "test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: neg},
				Ns:  "ns.test.", Mbox: "hostmaster.test.", Serial: 1, Refresh: 60, Retry: 60, Expire: 60, Minttl: neg,
			}}
		}
	}
	_ = w.WriteMsg(m)
}
