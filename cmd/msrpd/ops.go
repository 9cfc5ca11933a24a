package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/admin"
	"github.com/msrpd/msrpd/metrics"
	"github.com/msrpd/msrpd/relay"
)

// opsListeners are the operator's HTTP listeners: --metrics-addr
// (/metrics, /healthz, /readyz) and --admin-addr (/sessions); one
// listener serves both when the two name the same address.
type opsListeners struct {
	servers []*http.Server
}

// startOps opens the listeners asked for. They stay up through a
// graceful shutdown, so that /readyz can say "draining" meanwhile.
func startOps(metricsAddr, adminAddr string, srv *relay.Server, health *metrics.Health, log logging.LeveledLogger) (*opsListeners, error) {
	type listener struct {
		addr  string
		mux   *http.ServeMux
		what  string
		admin bool
		flag  string
	}
	var ls []listener
	if metricsAddr != "" {
		mux := metrics.Handler(metrics.NewRegistry(srv.Stats, version), health)
		ls = append(ls, listener{metricsAddr, mux, "metrics on http://%s/metrics, health checks on /healthz and /readyz", false, "--metrics-addr"})
	}
	if adminAddr != "" {
		if adminAddr == metricsAddr && !strings.HasSuffix(adminAddr, ":0") { // two :0 are two ports
			ls[0].mux.Handle("/sessions", admin.Handler(srv))
			ls[0].mux.Handle("/sessions/", admin.Handler(srv))
			ls[0].what += ", sessions on /sessions"
			ls[0].admin = true
			ls[0].flag = "--metrics-addr and --admin-addr"
		} else {
			mux := http.NewServeMux()
			mux.Handle("/", admin.Handler(srv))
			ls = append(ls, listener{adminAddr, mux, "sessions on http://%s/sessions", true, "--admin-addr"})
		}
	}
	o := &opsListeners{}
	for _, l := range ls {
		nl, err := net.Listen("tcp", l.addr)
		if err != nil {
			o.close()
			return nil, fmt.Errorf("%s %s: %w", l.flag, l.addr, err)
		}
		hs := &http.Server{Handler: l.mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
		o.servers = append(o.servers, hs)
		go func() {
			if err := hs.Serve(nl); !errors.Is(err, http.ErrServerClosed) {
				log.Errorf("operator listener %s: %v", nl.Addr(), err)
			}
		}()
		log.Infof(l.what, nl.Addr())
		if ta, ok := nl.Addr().(*net.TCPAddr); ok && l.admin && !ta.IP.IsLoopback() {
			log.Warnf("the session list on %s is unauthenticated and can close sessions: keep it on loopback or behind a proxy that authenticates", nl.Addr())
		}
	}
	return o, nil
}

func (o *opsListeners) close() {
	if o == nil {
		return
	}
	for _, hs := range o.servers {
		hs.Close()
	}
}
