package metrics

import (
	"net/http"
	"runtime"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/msrpd/msrpd/relay"
)

// NewRegistry returns a registry holding the collector of stats (see
// NewCollector), the Go runtime and process collectors, and
// msrpd_build_info with the version and the Go version as labels.
func NewRegistry(stats func() relay.Stats, version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(stats),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "msrpd_build_info",
			Help:        "Always 1; the labels say which msrpd this is.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Health is the state /healthz and /readyz report. The zero value is
// alive and not ready.
type Health struct {
	ready    atomic.Bool
	draining atomic.Bool
}

// SetReady marks the relay ready: its listeners are up.
func (h *Health) SetReady() { h.ready.Store(true) }

// SetDraining marks the relay draining: it is shutting down, so a load
// balancer should send no new clients, while the connections it has
// finish their chunks.
func (h *Health) SetDraining() { h.draining.Store(true) }

// Ready reports whether /readyz answers 200.
func (h *Health) Ready() bool { return h.ready.Load() && !h.draining.Load() }

// Handler returns the HTTP handler of /metrics (from reg), /healthz and
// /readyz. /healthz answers 200 "ok" while the process serves HTTP at
// all; /readyz answers 200 "ready" once h is ready, and 503 "starting"
// or "draining" otherwise.
func Handler(reg *prometheus.Registry, h *Health) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch {
		case h.draining.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("draining\n"))
		case !h.ready.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("starting\n"))
		default:
			w.Write([]byte("ready\n"))
		}
	})
	return mux
}
