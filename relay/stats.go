package relay

import (
	"sync/atomic"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
)

// Stats is a snapshot of the relay's counters.
type Stats struct {
	Connections      int64 // client connections open now
	Sessions         int   // live Use-Path URIs
	RefusedConns     int64 // connections refused for the connection limit
	AuthFailures     int64 // AUTHs answered 401 after bad credentials
	FailuresReported int64 // failure REPORTs and error responses generated
	NextHopsRefused  int64 // requests answered 403 because the outbound policy refused their next hop
	AuthUnavailable  int64 // AUTHs answered 500 because the credential store could not answer
	// Keepalive sums the keepalive counters of all connections, clients'
	// and next hops': probes sent, answered and missed, closes for
	// liveness, mode switches, inbound Pings answered, inbound bodiless
	// SENDs, floods.
	Keepalive keepalive.Stats
	// Closed counts the connections closed, clients' and next hops', by
	// reason (keepalive-timeout, slow-consumer, policy, ...).
	Closed map[transport.CloseReason]uint64
	// Open counts the connections open now, clients' and next hops', by
	// kind (tcp, tls, ws, wss).
	Open map[transport.Kind]int64
}

type counters struct {
	conns        atomic.Int64
	refused      atomic.Int64
	authFailures atomic.Int64
	failures     atomic.Int64
	hopsRefused  atomic.Int64
	// authUnavailable counts AUTHs answered 500 (credential store down).
	authUnavailable atomic.Int64
}

// Stats returns the relay's counters.
func (s *Server) Stats() Stats {
	ts := s.host.Stats()
	return Stats{
		Connections:      s.stats.conns.Load(),
		Sessions:         s.sessions.len(),
		RefusedConns:     s.stats.refused.Load(),
		AuthFailures:     s.stats.authFailures.Load(),
		FailuresReported: s.stats.failures.Load(),
		NextHopsRefused:  s.stats.hopsRefused.Load(),
		AuthUnavailable:  s.stats.authUnavailable.Load(),
		Keepalive:        ts.Keepalive,
		Closed:           ts.Closed,
		Open:             ts.Open,
	}
}
