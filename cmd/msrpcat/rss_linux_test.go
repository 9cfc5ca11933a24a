//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// maxRSS is the bound of issue 11 on each msrpcat's peak resident set
// while a 100 MiB file goes from call to answer.
const maxRSS = 64 << 20

// TestCallFileRSS sends a 100 MiB file with a=file-selector from call to
// answer through msrpd (caller on WebSocket, answerer on TCP) and checks
// each msrpcat's peak RSS (getrusage ru_maxrss, the kernel's VmHWM at
// exit) stays under 64 MiB. Memory means nothing under -race: run it in
// the plain build (make test does, in its unit target).
func TestCallFileRSS(t *testing.T) {
	if raceEnabled {
		t.Skip("memory bound: run without -race (make test's unit target does)")
	}
	const size = 100 << 20
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	block := make([]byte, 1<<20)
	_, _ = rand.Read(block)
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size/len(block); i++ {
		block[0] = byte(i) // no two blocks alike
		if _, err := f.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r := newTestRelay(t)
	out := filepath.Join(dir, "in")
	ans, uri := startAnswer(t, "--count", "1", "--out", out, "--relay", r.TCP, "--user", "bob:pb", "--timeout", "30s")
	begin := time.Now()
	cl := start(t, "call", "--sip-timeout", "5s", "--timeout", "30s", "--relay", r.WS, "--user", "alice:pa",
		"--file", src, uri)
	if code := cl.wait(t, 120*time.Second); code != 0 {
		t.Fatalf("call exit %d", code)
	}
	took := time.Since(begin)
	got := ans.next(t, 30*time.Second)
	if !strings.Contains(got, "[file big.bin, 104857600 bytes, sha-1 ok, saved as ") {
		t.Fatalf("answer printed %q", got)
	}
	if code := ans.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("answer exit %d", code)
	}
	if !sameFile(t, src, filepath.Join(out, "big.bin")) {
		t.Fatal("the saved file differs from the one sent")
	}
	for _, p := range []struct {
		name string
		p    *proc
	}{{"call", cl}, {"answer", ans}} {
		ru, ok := p.p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			t.Fatal("no rusage")
		}
		rss := ru.Maxrss << 10 // KiB on Linux
		t.Logf("msrpcat %s: peak RSS %.1f MiB (bound %d MiB); transfer took %v (%.0f MB/s)",
			p.name, float64(rss)/(1<<20), maxRSS>>20, took.Round(time.Millisecond), float64(size)/took.Seconds()/1e6)
		if rss >= maxRSS {
			t.Errorf("msrpcat %s: peak RSS %d MiB, want under %d MiB", p.name, rss>>20, maxRSS>>20)
		}
	}
}

// sameFile compares two files a MiB at a time.
func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := fa.Read(ba)
		nb, eb := fb.Read(bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil || eb != nil {
			return ea != nil && eb != nil
		}
	}
}
