// Command msrpd-pprof is msrpd's relay with net/http/pprof on loopback, for
// profiling under the benchmark load. It configures relay.Server the way
// cmd/msrpd does with the flags bench/relays.sh passes (users alice/alicepw
// and bob/bobpw, realm 127.0.0.1, keepalive 20 s, 64 KiB forward chunks,
// 16 MiB max chunk) and serves:
//
//	msrpd-pprof --tcp 127.0.0.1:2855 --ws 127.0.0.1:8855 --pprof 127.0.0.1:6060
//
// then e.g. go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

func main() {
	tcpAddr := flag.String("tcp", "127.0.0.1:2855", "MSRP over TCP listen address")
	wsAddr := flag.String("ws", "127.0.0.1:8855", "MSRP over WebSocket listen address")
	pprofAddr := flag.String("pprof", "127.0.0.1:6060", "net/http/pprof listen address")
	realm := flag.String("realm", "127.0.0.1", "Digest realm")
	ping := flag.Duration("ping-interval", 20*time.Second, "keepalive interval")
	blockRate := flag.Int("block-rate", 0, "runtime.SetBlockProfileRate (0 = off)")
	mutexFrac := flag.Int("mutex-fraction", 0, "runtime.SetMutexProfileFraction (0 = off)")
	flag.Parse()
	runtime.SetBlockProfileRate(*blockRate)
	runtime.SetMutexProfileFraction(*mutexFrac)

	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelWarn
	tl, err := net.Listen("tcp", *tcpAddr)
	check(err)
	wl, err := net.Listen("tcp", *wsAddr)
	check(err)
	creds := relay.NewMemoryCredentials()
	creds.Add("alice", *realm, "alicepw")
	creds.Add("bob", *realm, "bobpw")
	ta := tl.Addr().(*net.TCPAddr)
	srv, err := relay.New(relay.Config{
		Host:           ta.IP.String(),
		Port:           ta.Port,
		Aliases:        []string{tl.Addr().String(), wl.Addr().String()},
		Realm:          *realm,
		Credentials:    creds,
		MaxChunk:       16 << 20,
		ForwardChunk:   64 << 10,
		MaxConnections: 30000,
		LoggerFactory:  lf,
		Transport: transport.Config{
			Keepalive:     keepalive.Config{Interval: *ping, Mode: keepalive.ModeAuto},
			LoggerFactory: lf,
		},
	})
	check(err)
	go func() { check(srv.ServeTCP(tl)) }()
	go func() { check(srv.ServeWebSocket(wl, false)) }()
	go func() { check(http.ListenAndServe(*pprofAddr, nil)) }()
	fmt.Fprintf(os.Stderr, "msrpd-pprof: tcp %s ws %s pprof http://%s/debug/pprof/\n", tl.Addr(), wl.Addr(), *pprofAddr)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	<-sigs
	_ = srv.Close()
}

func check(err error) {
	if err != nil && err != relay.ErrServerClosed && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "msrpd-pprof:", err)
		os.Exit(1)
	}
}
