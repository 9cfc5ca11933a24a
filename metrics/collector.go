package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

// collector turns one relay.Stats snapshot per scrape into metrics. The
// relay counts with atomics of its own and knows nothing of Prometheus;
// the cost of the conversion falls on the scrape, not on the chunks.
type collector struct {
	stats func() relay.Stats
}

// NewCollector returns a prometheus.Collector of the counters stats
// returns (a relay.Server's Stats method): connections, AUTHs, sessions,
// requests and responses, relayed chunks and bytes, failure REPORTs,
// transaction timeouts, keepalive, outbound connections and the
// forwarding latency, every name prefixed msrpd_.
func NewCollector(stats func() relay.Stats) prometheus.Collector {
	return &collector{stats: stats}
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("msrpd_"+name, help, labels, nil)
}

var (
	descConnsOpen     = desc("connections_open", "Connections open now, inbound and outbound, by transport.", "transport")
	descConnsAccepted = desc("connections_accepted_total", "Connections clients and other relays opened to msrpd, by transport.", "transport")
	descConnsRefused  = desc("connections_refused_total", "Connections refused at accept because --max-connections were open.")
	descConnsClosed   = desc("connections_closed_total", "Connections closed (inbound and outbound), by close reason.", "reason")
	descOutOpen       = desc("outbound_connections_open", "Connections msrpd dialled to next-hop relays, open now.")
	descOutDials      = desc("outbound_connections_total", "Dials of next-hop relays the outbound policy admitted, by result.", "result")
	descHopsRefused   = desc("next_hops_refused_total", "Requests answered 403 because the outbound policy refused their next hop.")
	descAuth          = desc("auth_total", "AUTH requests addressed to msrpd, by result.", "result")
	descSessions      = desc("sessions_active", "Use-Path sessions alive now.")
	descSessStarted   = desc("sessions_started_total", "Use-Path sessions handed out by AUTH.")
	descSessEnded     = desc("sessions_ended_total", "Use-Path sessions that ended, by reason.", "reason")
	descRequests      = desc("requests_total", "MSRP request chunks received, by method.", "method")
	descRespIn        = desc("responses_received_total", "MSRP responses received from next hops, by status class.", "class")
	descRespOut       = desc("responses_sent_total", "MSRP responses msrpd generated, by status class.", "class")
	descChunks        = desc("relayed_chunks_total", "Request chunks relayed: in = taken from senders and forwarded, out = sent to next hops (pieces of re-chunked chunks each count).", "direction")
	descBytes         = desc("relayed_bytes_total", "Body bytes of the chunks in msrpd_relayed_chunks_total.", "direction")
	descFailures      = desc("failure_reports_total", "Failure REPORTs and error responses msrpd generated for forwarded requests.")
	descTimeouts      = desc("transaction_timeouts_total", "Forwarded requests whose response did not come within the transaction timeout.")
	descProbes        = desc("keepalive_probes_total", "Keepalive probes sent, by kind (frames: WebSocket Ping; send: bodiless SEND).", "kind")
	descAnswers       = desc("keepalive_answers_total", "Keepalive probes answered.")
	descMisses        = desc("keepalive_misses_total", "Keepalive probes not answered in time.")
	descKATimeouts    = desc("keepalive_timeouts_total", "Connections closed because they stopped answering keepalive probes.")
	descSwitches      = desc("keepalive_mode_switches_total", "WebSocket peers switched from Ping frames to bodiless SEND probes (mode auto).")
	descPings         = desc("keepalive_pings_answered_total", "Ping frames from peers answered with Pongs.")
	descBodiless      = desc("keepalive_bodiless_sends_received_total", "Bodiless SENDs received from peers.")
	descFloods        = desc("keepalive_floods_total", "Connections closed for flooding Pings or bodiless SENDs.")
	descWSRefused     = desc("websocket_handshakes_refused_total", "WebSocket handshakes refused, by reason (subprotocol: msrp not offered; origin: Origin not admitted; bad-request; stopped).", "reason")
	descTLSFailures   = desc("tls_handshake_failures_total", "TLS handshakes that failed or timed out on the tls and wss listeners.")
	descLatency       = desc("forwarding_latency_seconds", "Time from msrpd taking a request chunk off its sender's connection to its last piece written to the next hop.")
)

var allDescs = []*prometheus.Desc{
	descConnsOpen, descConnsAccepted, descConnsRefused, descConnsClosed,
	descOutOpen, descOutDials, descHopsRefused, descAuth, descSessions,
	descSessStarted, descSessEnded, descRequests, descRespIn, descRespOut,
	descChunks, descBytes, descFailures, descTimeouts, descProbes,
	descAnswers, descMisses, descKATimeouts, descSwitches, descPings,
	descBodiless, descFloods, descWSRefused, descTLSFailures, descLatency,
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	byTransport := func(d *prometheus.Desc, b relay.ByTransport, vt prometheus.ValueType) {
		for _, x := range []struct {
			name string
			n    int64
		}{{"ws", b.WS}, {"wss", b.WSS}, {"tcp", b.TCP}, {"tls", b.TLS}} {
			ch <- prometheus.MustNewConstMetric(d, vt, float64(x.n), x.name)
		}
	}
	byClass := func(d *prometheus.Desc, b relay.ByClass) {
		counter(d, b.C2xx, "2xx")
		counter(d, b.C3xx, "3xx")
		counter(d, b.C4xx, "4xx")
		counter(d, b.C5xx, "5xx")
		counter(d, b.Other, "other")
	}

	for k := transport.KindTCP; k.String() != "unknown"; k++ {
		gauge(descConnsOpen, float64(st.Open[k]), k.String())
	}
	byTransport(descConnsAccepted, st.Accepted, prometheus.CounterValue)
	counter(descConnsRefused, uint64(st.RefusedConns))
	// Every reason the transport knows, zeros included, so that rates
	// of a reason not seen yet exist.
	for r := transport.ReasonPeerClosed; r.String() != "unknown"; r++ {
		counter(descConnsClosed, st.Closed[r], r.String())
	}
	for reason, n := range st.HandshakesRefused {
		counter(descWSRefused, n, reason)
	}
	counter(descTLSFailures, st.TLSFailures)
	gauge(descOutOpen, float64(st.Outbound.Open))
	counter(descOutDials, st.Outbound.Dialed, "ok")
	counter(descOutDials, st.Outbound.Failed, "failed")
	counter(descHopsRefused, uint64(st.NextHopsRefused))

	counter(descAuth, st.Auth.OK, "ok")
	counter(descAuth, st.Auth.Challenged, "challenged")
	counter(descAuth, st.Auth.Failed, "failed")
	counter(descAuth, st.Auth.Refused, "refused")
	counter(descAuth, st.Auth.Unavailable, "unavailable")
	counter(descAuth, st.Auth.Rejected, "rejected")

	gauge(descSessions, float64(st.Sessions))
	counter(descSessStarted, st.SessionsStarted)
	counter(descSessEnded, st.SessionsEnded.Expired, relay.EndExpired.String())
	counter(descSessEnded, st.SessionsEnded.Closed, relay.EndClosed.String())
	counter(descSessEnded, st.SessionsEnded.Shutdown, relay.EndShutdown.String())
	counter(descSessEnded, st.SessionsEnded.Admin, relay.EndAdmin.String())

	counter(descRequests, st.Requests.SEND, "SEND")
	counter(descRequests, st.Requests.REPORT, "REPORT")
	counter(descRequests, st.Requests.AUTH, "AUTH")
	counter(descRequests, st.Requests.Other, "other")
	byClass(descRespIn, st.ResponsesIn)
	byClass(descRespOut, st.ResponsesOut)
	counter(descChunks, st.ChunksIn, "in")
	counter(descChunks, st.ChunksOut, "out")
	counter(descBytes, st.BytesIn, "in")
	counter(descBytes, st.BytesOut, "out")
	counter(descFailures, uint64(st.FailuresReported))
	counter(descTimeouts, st.TransactionTimeouts)

	ka := st.Keepalive
	counter(descProbes, ka.ProbesFrames, "frames")
	counter(descProbes, ka.ProbesSend, "send")
	counter(descAnswers, ka.Answers)
	counter(descMisses, ka.Misses)
	counter(descKATimeouts, ka.Timeouts)
	counter(descSwitches, ka.ModeSwitches)
	counter(descPings, ka.PingsAnswered)
	counter(descBodiless, ka.BodilessSends)
	counter(descFloods, ka.Floods)

	h := st.Latency
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b.Seconds()] = h.Counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(descLatency, h.Count, h.Sum.Seconds(), buckets)
}
