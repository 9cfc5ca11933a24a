// Package srv finds MSRP relays through DNS, as RFC 4976 section 8 says: a
// relay URI without a port (msrps://example.com;tcp) names a domain whose
// relays are listed by _msrps._tcp.example.com (or _msrp._tcp) SRV records
// (RFC 2782), tried by priority and, within one priority, in an order
// drawn by weight; a domain without SRV records is its own A/AAAA name on
// the default port 2855. A farm of relays is one SRV record per member.
//
// Lookup orders the targets; Client is a Resolver that asks a DNS server
// of its own (Config.Server) or the system's, and keeps answers for their
// TTL. The relay and the endpoint both take a Resolver, so tests can point
// them at a DNS server of the test's own.
package srv
