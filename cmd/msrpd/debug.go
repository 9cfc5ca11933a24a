package main

import (
	"expvar"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"

	"github.com/msrpd/msrpd/relay"
	"github.com/pion/logging"
)

// serveDebug exposes Go's profiler and the relay's counters on addr, for
// operators and the soak test: /debug/pprof/ and /debug/vars (expvar, with
// "relay", "goroutines" and "memory"). Meant for loopback only.
func serveDebug(addr string, srv *relay.Server, log logging.LeveledLogger) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	vars := new(expvar.Map).Init()
	vars.Set("relay", expvar.Func(func() any { return srv.Stats() }))
	vars.Set("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	vars.Set("memory", expvar.Func(memory))
	mux.Handle("/debug/vars", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(vars.String()))
	}))
	go func() {
		if err := http.Serve(l, mux); err != nil {
			log.Debugf("debug listener: %v", err)
		}
	}()
	log.Infof("debug endpoints on http://%s/debug/pprof/ and /debug/vars", l.Addr())
	return l, nil
}

// memoryStats is what the Go runtime holds, in bytes, to tell a growing
// heap from memory the runtime keeps or has not returned to the system
// yet when RSS grows.
type memoryStats struct {
	HeapAlloc    uint64 // live objects and garbage not yet collected
	HeapInuse    uint64 // spans with objects in them
	HeapIdle     uint64 // spans without objects
	HeapReleased uint64 // idle spans given back to the system
	StackInuse   uint64
	Sys          uint64 // everything the runtime obtained from the system
	NumGC        uint32
}

func memory() any {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memoryStats{ms.HeapAlloc, ms.HeapInuse, ms.HeapIdle, ms.HeapReleased, ms.StackInuse, ms.Sys, ms.NumGC}
}
