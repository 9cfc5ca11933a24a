//go:build unix

package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMELab runs the README's "A lab with its own CA" block as a user
// pastes it, with the binaries under test and free ports in place of
// bin/ and the README's: openssl makes the CA and certificates, msrpd
// serves TLS and WSS with them, and msrpcat, trusting the CA with --ca,
// gets a message through. It needs openssl: without it the test skips
// loudly, or fails where MSRPD_OPENSSL=1 (as .ci/run sets) says it must
// run.
func TestREADMELab(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("MSRPD_OPENSSL") == "1" {
			t.Fatal("MSRPD_OPENSSL=1 but openssl is not installed")
		}
		t.Skip("\n*** README LAB TEST SKIPPED: openssl not installed (.ci/run installs it and sets MSRPD_OPENSSL=1) ***")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(readme), "<!-- lab: begin")
	block, _, ok2 := strings.Cut(rest, "<!-- lab: end -->")
	if !ok1 || !ok2 {
		t.Fatal("README.md has no lab block between <!-- lab: begin and <!-- lab: end -->")
	}
	_, block, _ = strings.Cut(block, "-->")
	var script strings.Builder
	for _, line := range strings.Split(block, "\n") {
		script.WriteString(strings.TrimPrefix(line, "    ") + "\n")
	}
	s := strings.NewReplacer(
		"bin/msrpd", msrpdBin,
		"bin/msrpcat", msrpcatBin,
		"127.0.0.1:2856", freeAddr(t),
		"127.0.0.1:8856", freeAddr(t),
	).Replace(script.String())

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	// Output goes to a file, not a pipe: what the block leaves running
	// in the background cannot then keep Wait waiting.
	outFile, err := os.Create(dir + "/output")
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-c", s)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = outFile, outFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On a timeout, and in any case at the end, end what the block
	// started in the background too.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	err = cmd.Wait()
	out, _ := os.ReadFile(dir + "/output")
	if err != nil {
		t.Fatalf("the README's lab block failed: %v\n%s\n--- the block as run:\n%s", err, out, s)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	got := false
	for _, l := range lines {
		got = got || l == "hello over TLS"
	}
	if !got {
		t.Fatalf("the lab block did not print %q:\n%s", "hello over TLS", out)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
