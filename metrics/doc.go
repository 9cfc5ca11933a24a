// Package metrics serves msrpd's operator endpoints over HTTP: /metrics in
// the Prometheus text format (the relay's counters, the Go runtime and the
// process, msrpd_build_info), and the health checks /healthz (the process
// answers) and /readyz (it serves clients and is not draining), for load
// balancers.
//
// The relay counts with atomics of its own and knows nothing of
// Prometheus: NewCollector reads a relay.Stats snapshot per scrape.
// Everything here is safe for concurrent use.
package metrics
