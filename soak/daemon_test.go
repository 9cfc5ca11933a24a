package soak

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// daemon is the msrpd process under test.
type daemon struct {
	mu     sync.Mutex
	errors []string // error lines msrpd logged
	cmd    *exec.Cmd
	tcp    string // host:port
	ws     string
	debug  string
}

var (
	listenRe = regexp.MustCompile(`listening (\w+) on ([0-9.:]+);`)
	debugRe  = regexp.MustCompile(`debug endpoints on http://([0-9.:]+)/`)
)

// msrpdBinary builds msrpd once per test binary.
var msrpdBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "msrpd-soak")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "msrpd")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/msrpd").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build msrpd: %v\n%s", err, out)
	}
	return bin, nil
})

// startDaemon runs msrpd with a TCP and a WebSocket listener on
// 127.0.0.1 (port 0 picks free ones) and a debug listener.
func startDaemon(t *testing.T, tcp, ws string, args ...string) *daemon {
	t.Helper()
	bin, err := msrpdBinary()
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--tcp", tcp, "--ws", ws, "--debug-addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The log is read to its end so msrpd never blocks on stderr; the
	// startup lines give the addresses.
	type addr struct{ kind, hostport string }
	addrs := make(chan addr, 8)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := listenRe.FindStringSubmatch(line); m != nil {
				addrs <- addr{m[1], m[2]}
			}
			if m := debugRe.FindStringSubmatch(line); m != nil {
				addrs <- addr{"debug", m[1]}
			}
			if strings.Contains(line, " ERROR") || strings.Contains(line, "panic") {
				d.mu.Lock()
				d.errors = append(d.errors, line)
				d.mu.Unlock()
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	timeout := time.After(20 * time.Second)
	for d.tcp == "" || d.ws == "" || d.debug == "" {
		select {
		case a := <-addrs:
			switch a.kind {
			case "tcp":
				d.tcp = a.hostport
			case "ws":
				d.ws = a.hostport
			case "debug":
				d.debug = a.hostport
			}
		case <-timeout:
			t.Fatal("msrpd did not start")
		}
	}
	return d
}

// sample is one reading of the daemon's resources.
type sample struct {
	at         time.Duration
	rssKiB     int
	fds        int
	goroutines int
	conns      int
	heapKiB    int // the Go heap in use (HeapInuse)
	idleKiB    int // heap spans held but empty (HeapIdle - HeapReleased)
	stackKiB   int
}

func (d *daemon) sample(start time.Time) (sample, error) {
	s := sample{at: time.Since(start).Round(time.Second)}
	pid := d.cmd.Process.Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			s.rssKiB, _ = strconv.Atoi(f[1])
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	resp, err := http.Get("http://" + d.debug + "/debug/vars")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	var vars struct {
		Goroutines int
		Relay      struct{ Connections int }
		Memory     struct{ HeapInuse, HeapIdle, HeapReleased, StackInuse int }
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		return s, err
	}
	s.goroutines, s.conns = vars.Goroutines, vars.Relay.Connections
	m := vars.Memory
	s.heapKiB, s.idleKiB, s.stackKiB = m.HeapInuse>>10, (m.HeapIdle-m.HeapReleased)>>10, m.StackInuse>>10
	return s, nil
}

// heapProfile saves the daemon's heap profile (after a GC) to file.
func (d *daemon) heapProfile(file string) error {
	resp, err := http.Get("http://" + d.debug + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loggedErrors returns the error lines msrpd logged so far.
func (d *daemon) loggedErrors() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.errors...)
}
