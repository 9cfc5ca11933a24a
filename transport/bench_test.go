package transport

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
)

// The idle benchmark holds benchConns WebSocket connections against this
// process, with clients in a second process (this test binary re-executed
// with benchClientEnv set), since one process may open 20 000 files.
const (
	benchConns     = 10000
	benchClientEnv = "MSRPD_BENCH_CLIENT_URL"
)

// BenchmarkIdleWebSocket10k reports the server's RSS per idle connection
// and its CPU use while idle with a 1 s keepalive interval. The clients
// behave like browsers: they answer Pings and send nothing.
func BenchmarkIdleWebSocket10k(b *testing.B) {
	if testing.Short() {
		b.Skip("holds 10 000 connections")
	}
	var handled atomic.Int64
	host := newHost(b, Config{
		Keepalive:     keepalive.Config{Interval: time.Second},
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelWarn},
	})
	h := host.WebSocketHandler(func(c *Conn) {
		handled.Add(1)
		for {
			if _, err := c.Read(); err != nil {
				return
			}
		}
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer srv.Close()

	runtime.GC()
	rss0 := rssBytes(b)
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)

	startIdleClients(b, "ws://"+l.Addr().String()+"/msrp")
	for handled.Load() < benchConns {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // let keepalive reach its steady state

	b.ResetTimer()
	const window = 10 * time.Second
	probes0 := host.Stats().Keepalive
	var ma0, ma1 runtime.MemStats
	runtime.ReadMemStats(&ma0)
	cpu := measureCPU(b, window, func() { time.Sleep(window) })
	runtime.ReadMemStats(&ma1)
	probes := host.Stats().Keepalive
	pings := float64(probes.ProbesFrames-probes0.ProbesFrames) / window.Seconds() / benchConns
	if probes.Misses != 0 || probes.Timeouts != 0 {
		b.Errorf("clients missed probes: %+v", probes)
	}
	b.StopTimer()

	rss := rssBytes(b)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	perConn := float64(rss-rss0) / benchConns
	live := float64((ms.HeapInuse+ms.StackInuse)-(ms0.HeapInuse+ms0.StackInuse)) / benchConns
	cpuPct := 100 * cpu.Seconds() / window.Seconds()
	b.ReportMetric(perConn, "rss-bytes/conn")
	b.ReportMetric(live, "heap+stack-bytes/conn")
	b.ReportMetric(cpuPct, "cpu%/core")
	b.ReportMetric(pings, "pings/conn/s")
	// An idle relay should make no garbage: what it allocates per probe
	// drives its heap from one GC to the next, and so its RSS.
	sent := float64(probes.ProbesFrames - probes0.ProbesFrames)
	b.ReportMetric(float64(ma1.Mallocs-ma0.Mallocs)/sent, "allocs/ping")
	b.ReportMetric(float64(ma1.TotalAlloc-ma0.TotalAlloc)/sent, "B-alloc/ping")
	b.ReportMetric(float64(runtime.NumGoroutine())/benchConns, "goroutines/conn")
	b.Logf("%d conns: RSS %.1f KiB/conn (heap+stack in use %.1f KiB/conn), CPU %.2f%% of one core idle at 1s interval, %.3f Pings per connection and second",
		benchConns, perConn/1024, live/1024, cpuPct, pings)
}

// startIdleClients starts the client process of the idle benchmarks,
// which opens benchConns WebSocket connections to url, and waits until
// they are all open. The process ends with the benchmark.
func startIdleClients(b *testing.B, url string) {
	child := exec.Command(os.Args[0], "-test.run=^TestBenchIdleClient$", "-test.v")
	child.Env = append(os.Environ(), benchClientEnv+"="+url)
	child.Stderr = os.Stderr
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = child.Wait() })
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "READY") {
				ready <- nil
			} else if strings.HasPrefix(line, "FAIL") {
				ready <- fmt.Errorf("client: %s", line)
			}
		}
		ready <- fmt.Errorf("client exited")
	}()
	select {
	case err := <-ready:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		b.Fatal("clients not connected in time")
	}
}

// measureCPU runs idle, which should take about window, and returns the
// CPU time this process used meanwhile. With MSRPD_IDLE_PROFILE set to a
// file name it also writes a CPU profile of just that stretch there.
func measureCPU(b *testing.B, window time.Duration, idle func()) time.Duration {
	if name := os.Getenv("MSRPD_IDLE_PROFILE"); name != "" {
		f, err := os.Create(name)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	user0, sys0 := processCPU()
	idle()
	user1, sys1 := processCPU()
	user, sys := user1-user0, sys1-sys0
	b.Logf("CPU in %v: user %v, system %v", window, user, sys)
	return user + sys
}

// TestBenchIdleClient is the client process of BenchmarkIdleWebSocket10k;
// it does nothing unless that benchmark started it.
func TestBenchIdleClient(t *testing.T) {
	url := os.Getenv(benchClientEnv)
	if url == "" {
		t.Skip("client process of BenchmarkIdleWebSocket10k only")
	}
	d := websocket.Dialer{Subprotocols: []string{"msrp"}, ReadBufferSize: 256, WriteBufferSize: 256,
		WriteBufferPool: &sync.Pool{}, HandshakeTimeout: 30 * time.Second}
	var wg sync.WaitGroup
	var failed atomic.Int64
	conns := make(chan *websocket.Conn, benchConns)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchConns; i += 16 {
				ws, _, err := d.Dial(url, nil)
				if err != nil {
					failed.Add(1)
					fmt.Println("FAIL dial:", err)
					return
				}
				conns <- ws
				go func() { // gorilla's default ping handler answers Pings
					for {
						if _, _, err := ws.NextReader(); err != nil {
							return
						}
					}
				}()
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		return
	}
	fmt.Println("READY " + strconv.Itoa(len(conns)))
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark is done
}

func rssBytes(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc: ", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	b.Skip("no VmRSS")
	return 0
}
