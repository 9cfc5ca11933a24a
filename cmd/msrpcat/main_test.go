package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/relaytest"
	"github.com/msrpd/msrpd/relay"
)

// msrpcatBin and msrpdBin are the binaries built by TestMain: msrpcat
// with the race detector when the tests run with it, msrpd (the relay the
// TLS tests configure by its flags) without.
var msrpcatBin, msrpdBin string

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
	msrpdBin = filepath.Join(dir, "msrpd")
	if out, err := exec.Command("go", "build", "-o", msrpdBin, "../msrpd").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build msrpd: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// The msrpcat processes the tests start spool into TMPDIR; those
	// killed mid-transfer leave their partial files behind, in here.
	spool := filepath.Join(dir, "tmp")
	if err := os.Mkdir(spool, 0o700); err == nil {
		os.Setenv("TMPDIR", spool)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newTestRelay starts a relay with ws and tcp listeners on loopback and
// users alice (password pa) and bob (pb) in realm test.
func newTestRelay(t *testing.T) *relaytest.Relay {
	t.Helper()
	return relaytest.Start(t, relaytest.Options{
		Users: map[string]string{"alice": "pa", "bob": "pb"},
		Config: func(c *relay.Config) {
			// call/answer without a relay on one side, and chains of two
			// relays, need the relay to dial plain msrp next hops on
			// loopback.
			c.Outbound = relay.OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}
		},
	})
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
