package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a running msrpcat.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
	done   chan struct{}
	code   int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs msrpcat in the background; stdin stays open until
// closeStdin (or the test ends).
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(msrpcatBin, args...), lines: make(chan string, 1000), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("msrpcat %s stderr:\n%s", strings.Join(args, " "), p.stderr)
		}
	})
	return p
}

// startAnswer runs msrpcat answer on a free port and returns it with the
// SIP URI that reaches it.
func startAnswer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, append([]string{"answer", "--sip-listen", "127.0.0.1:0", "--sip-user", "bob", "--sip-timeout", "2s", "--timeout", "5s"}, args...)...)
	m := p.waitStderr(t, `answering at (sip:\S+)`, 20*time.Second)
	return p, m[1]
}

// waitStderr waits until stderr matches the regular expression.
func (p *proc) waitStderr(t *testing.T, re string, d time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		if m := rx.FindStringSubmatch(p.stderr.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			if m := rx.FindStringSubmatch(p.stderr.String()); m != nil {
				return m
			}
			t.Fatalf("msrpcat exited (%d) before stderr matched %q; stderr:\n%s", p.code, re, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("stderr did not match %q within %v; stderr:\n%s", re, d, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// next returns the next stdout line.
func (p *proc) next(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case s, ok := <-p.lines:
		if !ok {
			t.Fatalf("msrpcat ended without the line; stderr:\n%s", p.stderr)
		}
		return s
	case <-time.After(d):
		t.Fatalf("no stdout line within %v; stderr:\n%s", d, p.stderr)
	}
	return ""
}

// wait waits for the exit and returns the exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		t.Fatalf("msrpcat did not exit within %v; stderr:\n%s", d, p.stderr)
	}
	return -1
}

func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// call runs msrpcat call to completion.
func call(t *testing.T, stdin string, uri string, args ...string) (string, string, int) {
	t.Helper()
	return run(t, stdin, append(append([]string{"call", "--sip-timeout", "2s", "--timeout", "5s", "--ring-timeout", "10s"}, args...), uri)...)
}

// runArgs is run with the SIP-URI and TEXT after the flags.
func callText(t *testing.T, uri, text string, args ...string) (string, string, int) {
	t.Helper()
	base := []string{"call", "--sip-timeout", "2s", "--timeout", "5s", "--ring-timeout", "10s"}
	return run(t, "", append(append(base, args...), uri, text)...)
}

var _ = context.Background
