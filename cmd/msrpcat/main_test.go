package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

// msrpcatBin is the binary built by TestMain, with the race detector
// when the tests run with it.
var msrpcatBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "msrpcat-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	msrpcatBin = filepath.Join(dir, "msrpcat")
	args := []string{"build", "-o", msrpcatBin, "."}
	if raceEnabled {
		args = []string{"build", "-race", "-o", msrpcatBin, "."}
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testRelay is an msrpd relay with ws and tcp listeners on loopback.
type testRelay struct {
	ws, tcp string
}

func newTestRelay(t *testing.T) *testRelay {
	t.Helper()
	creds := relay.NewMemoryCredentials()
	creds.Add("alice", "test", "pa")
	creds.Add("bob", "test", "pb")
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	srv, err := relay.New(relay.Config{
		Host: "127.0.0.1", Port: tl.Addr().(*net.TCPAddr).Port, Realm: "test", Credentials: creds,
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: lockedWriter{&logMu, &logs}, DefaultLogLevel: logging.LogLevelInfo},
		Transport:     transport.Config{Keepalive: keepalive.Config{Interval: -1}},
		// call/answer without a relay on one side, and chains of two
		// relays, need the relay to dial plain msrp next hops on loopback.
		Outbound: relay.OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.ServeTCP(tl) }()
	go func() { defer wg.Done(); _ = srv.ServeWebSocket(wl, false) }()
	t.Cleanup(func() {
		_ = srv.Close()
		wg.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("relay log:\n%s", logs.String())
			logMu.Unlock()
		}
	})
	return &testRelay{ws: "ws://" + wl.Addr().String() + "/", tcp: "msrp://" + tl.Addr().String() + ";tcp"}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (r *testRelay) url(kind string) string {
	if kind == "ws" {
		return r.ws
	}
	return r.tcp
}

// run runs msrpcat to completion with stdin and returns stdout, stderr and
// the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, msrpcatBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("msrpcat %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// listener is a running `msrpcat listen`.
type listener struct {
	cmd    *exec.Cmd
	path   string
	lines  chan string
	stderr *bytes.Buffer
}

func startListen(t *testing.T, relayURL string, extra ...string) *listener {
	t.Helper()
	args := append([]string{"listen", "--relay", relayURL, "--user", "bob:pb"}, extra...)
	cmd := exec.Command(msrpcatBin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{cmd: cmd, lines: make(chan string, 100), stderr: &bytes.Buffer{}}
	cmd.Stderr = l.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		close(l.lines)
	}()
	l.path = l.next(t)
	return l
}

func (l *listener) next(t *testing.T) string {
	t.Helper()
	select {
	case s, ok := <-l.lines:
		if !ok {
			t.Fatalf("listen ended; stderr:\n%s", l.stderr)
		}
		return s
	case <-time.After(20 * time.Second):
		t.Fatalf("no line from listen; stderr:\n%s", l.stderr)
	}
	return ""
}

// wait waits for listen to exit and returns its exit code.
func (l *listener) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- l.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatal("listen did not exit")
	}
	return -1
}
