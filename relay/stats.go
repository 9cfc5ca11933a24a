package relay

import (
	"sync/atomic"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// Stats is a snapshot of the relay's counters. Counts ending in "total"
// in the metrics built from it (package metrics) only grow; the others
// are levels.
type Stats struct {
	Connections      int64 // client connections open now
	Sessions         int   // live Use-Path URIs
	RefusedConns     int64 // connections refused for the connection limit
	AuthFailures     int64 // AUTHs answered 401 after bad credentials (stale nonces included)
	FailuresReported int64 // failure REPORTs and error responses generated
	NextHopsRefused  int64 // requests answered 403 because the outbound policy refused their next hop
	AuthUnavailable  int64 // AUTHs answered 500 because the credential store could not answer

	// Accepted counts the connections clients (and other relays) opened
	// to this relay since it started, by transport.
	Accepted ByTransport
	// Outbound counts the connections the relay dialled to next hops.
	Outbound OutboundStats
	// SessionsStarted counts Use-Path URIs handed out; SessionsEnded
	// counts those that ended, by why.
	SessionsStarted uint64
	SessionsEnded   SessionEnds
	// Auth counts AUTH requests addressed to the relay by their outcome.
	Auth AuthStats
	// Requests counts request chunks received, by method; ResponsesIn the
	// responses received from next hops and ResponsesOut the responses
	// the relay itself sent, by status class.
	Requests                  ByMethod
	ResponsesIn, ResponsesOut ByClass
	// ChunksIn and BytesIn count the request chunks taken for forwarding
	// and their body bytes; ChunksOut and BytesOut what went out to next
	// hops (re-chunked pieces each count).
	ChunksIn, BytesIn, ChunksOut, BytesOut uint64
	// TransactionTimeouts counts forwarded requests whose response did not
	// come within Config.TransactionTimeout.
	TransactionTimeouts uint64
	// Latency is the forwarding latency: from the relay taking a request
	// chunk off its sender's connection to its last piece written to the
	// next hop. See Histogram.
	Latency Histogram
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
	// HandshakesRefused counts the WebSocket handshakes refused, by
	// reason (see transport.Stats); TLSFailures the TLS handshakes that
	// failed on the TLS and WSS listeners.
	HandshakesRefused map[string]uint64
	TLSFailures       uint64
}

// ByTransport counts by connection kind.
type ByTransport struct{ WS, WSS, TCP, TLS int64 }

// OutboundStats counts connections to next hops.
type OutboundStats struct {
	Open   int64  // open now
	Dialed uint64 // connections established
	Failed uint64 // dials that failed (after the policy admitted them)
}

// SessionEnds counts ended sessions by SessionInfo.EndReason.
type SessionEnds struct{ Expired, Closed, Shutdown, Admin uint64 }

// AuthStats counts AUTHs by outcome.
type AuthStats struct {
	OK          uint64 // 200: a session made or refreshed
	Challenged  uint64 // 401 to an AUTH without credentials, or with a stale nonce
	Failed      uint64 // 401 after wrong credentials
	Refused     uint64 // refused (connection closed) for --max-auth-failures-per-ip
	Unavailable uint64 // 500: the credential store did not answer
	Rejected    uint64 // other refusals: bad Expires (400, 423), a session of another connection, too many sessions (403)
}

// ByMethod counts requests by method.
type ByMethod struct{ SEND, REPORT, AUTH, Other uint64 }

// ByClass counts responses by status class; Other holds codes outside
// 200-599.
type ByClass struct{ C2xx, C3xx, C4xx, C5xx, Other uint64 }

// Request methods and response classes, as indexes of counter arrays.
const (
	methodSEND = iota
	methodREPORT
	methodAUTH
	methodOther
	numMethods
)

const numClasses = 5 // 2xx, 3xx, 4xx, 5xx, other

func methodIndex(m string) int {
	switch m {
	case msrp.MethodSEND:
		return methodSEND
	case msrp.MethodREPORT:
		return methodREPORT
	case msrp.MethodAUTH:
		return methodAUTH
	}
	return methodOther
}

func classIndex(code int) int {
	if code < 200 || code > 599 {
		return numClasses - 1
	}
	return code/100 - 2
}

// Auth outcomes, as indexes.
const (
	authOK = iota
	authChallenged
	authFailed
	authRefused
	authUnavailable
	authRejected
	numAuthResults
)

// counters are the relay's totals. Rare events are added directly; those
// of every chunk are gathered by each reader in its tally and added once
// per burst (see tally), so that a chunk costs plain increments instead
// of atomic operations on cache lines that every core writes.
type counters struct {
	conns        atomic.Int64
	refused      atomic.Int64
	authFailures atomic.Int64
	failures     atomic.Int64
	hopsRefused  atomic.Int64
	// authUnavailable counts AUTHs answered 500 (credential store down).
	authUnavailable atomic.Int64

	accepted       [4]atomic.Int64 // by transport.Kind
	outOpen        atomic.Int64
	dials, dialErr atomic.Uint64
	auth           [numAuthResults]atomic.Uint64
	started        atomic.Uint64
	ended          [numEndReasons]atomic.Uint64
	timeouts       atomic.Uint64
	wssTLSFailures atomic.Uint64 // see logWriter

	requests            [numMethods]atomic.Uint64
	respIn, respOut     [numClasses]atomic.Uint64
	chunksIn, chunksOut atomic.Uint64
	bytesIn, bytesOut   atomic.Uint64
	latency             histogram
}

// kindIndex maps a connection kind to its counter, or -1.
func kindIndex(k transport.Kind) int {
	if k < transport.KindTCP || k > transport.KindWSS {
		return -1
	}
	return int(k)
}

// Stats returns the relay's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{
		Connections:      c.conns.Load(),
		Sessions:         s.sessions.len(),
		RefusedConns:     c.refused.Load(),
		AuthFailures:     c.authFailures.Load(),
		FailuresReported: c.failures.Load(),
		NextHopsRefused:  c.hopsRefused.Load(),
		AuthUnavailable:  c.authUnavailable.Load(),
		Accepted:         byTransport(&c.accepted),
		Outbound:         OutboundStats{Open: c.outOpen.Load(), Dialed: c.dials.Load(), Failed: c.dialErr.Load()},
		SessionsStarted:  c.started.Load(),
		SessionsEnded: SessionEnds{
			Expired:  c.ended[EndExpired].Load(),
			Closed:   c.ended[EndClosed].Load(),
			Shutdown: c.ended[EndShutdown].Load(),
			Admin:    c.ended[EndAdmin].Load(),
		},
		Auth: AuthStats{
			OK:          c.auth[authOK].Load(),
			Challenged:  c.auth[authChallenged].Load(),
			Failed:      c.auth[authFailed].Load(),
			Refused:     c.auth[authRefused].Load(),
			Unavailable: c.auth[authUnavailable].Load(),
			Rejected:    c.auth[authRejected].Load(),
		},
		Requests: ByMethod{
			SEND:   c.requests[methodSEND].Load(),
			REPORT: c.requests[methodREPORT].Load(),
			AUTH:   c.requests[methodAUTH].Load(),
			Other:  c.requests[methodOther].Load(),
		},
		ResponsesIn:         byClass(&c.respIn),
		ResponsesOut:        byClass(&c.respOut),
		ChunksIn:            c.chunksIn.Load(),
		BytesIn:             c.bytesIn.Load(),
		ChunksOut:           c.chunksOut.Load(),
		BytesOut:            c.bytesOut.Load(),
		TransactionTimeouts: c.timeouts.Load(),
		Latency:             c.latency.snapshot(),
	}
	ts := s.host.Stats()
	st.Keepalive, st.Closed, st.Open = ts.Keepalive, ts.Closed, ts.Open
	st.HandshakesRefused = ts.HandshakesRefused
	st.TLSFailures = ts.TLSFailures + c.wssTLSFailures.Load()
	return st
}

func byTransport(a *[4]atomic.Int64) ByTransport {
	return ByTransport{
		TCP: a[transport.KindTCP].Load(),
		TLS: a[transport.KindTLS].Load(),
		WS:  a[transport.KindWS].Load(),
		WSS: a[transport.KindWSS].Load(),
	}
}

func byClass(a *[numClasses]atomic.Uint64) ByClass {
	return ByClass{a[0].Load(), a[1].Load(), a[2].Load(), a[3].Load(), a[4].Load()}
}
