package main

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/testpki"
)

// daemon is a running msrpd, configured by its flags as a user would.
type daemon struct {
	addrs map[string]string // listener kind -> address
	mu    sync.Mutex
	log   strings.Builder
}

var listening = regexp.MustCompile(`listening (\w+) on ([0-9.:\[\]]+);`)

// startMsrpd runs msrpd with args and waits for its listeners.
func startMsrpd(t *testing.T, listeners int, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(msrpdBin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	d := &daemon{addrs: map[string]string{}}
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		n := 0
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				d.addrs[m[1]] = m[2]
				if n++; n == listeners {
					close(up)
				}
			}
			d.mu.Unlock()
		}
	}()
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		t.Fatalf("msrpd %q did not start:\n%s", args, d.logText())
	}
	return d
}

func (d *daemon) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// url is the relay URL msrpcat takes for listener kind tls or wss.
func (d *daemon) url(kind string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if kind == "wss" {
		return "wss://" + d.addrs["wss"] + "/"
	}
	return "msrps://" + d.addrs["tls"] + ";tcp"
}

// waitLog waits until msrpd logged a line with every one of parts.
func (d *daemon) waitLog(t *testing.T, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(d.logText(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("msrpd logged no line with %q:\n%s", parts, d.logText())
}

// tlsRelay starts msrpd with tls and wss listeners, certificate files
// cert and key, and extra flags.
func tlsRelay(t *testing.T, cert, key string, extra ...string) *daemon {
	t.Helper()
	args := append([]string{"--tls", "127.0.0.1:0", "--wss", "127.0.0.1:0", "--cert", cert, "--key", key,
		"--user", "alice:pa", "--user", "bob:pb", "--realm", "test"}, extra...)
	return startMsrpd(t, 2, args...)
}

// roundTrip has bob listen and alice send him one message, both with the
// msrpcat flags given, and checks it arrives.
func roundTrip(t *testing.T, relay string, flags ...string) {
	t.Helper()
	l := startListen(t, relay, append([]string{"--count", "1"}, flags...)...)
	args := append([]string{"send", "--relay", relay, "--user", "alice:pa", "--to", l.path}, flags...)
	if _, errs, code := run(t, "", append(args, "--linger", "0", "hello", "over", "tls")...); code != 0 {
		t.Fatalf("send %q: exit %d\n%s", flags, code, errs)
	}
	if got := l.next(t); got != "hello over tls" {
		t.Fatalf("listen got %q", got)
	}
	if code := l.wait(t); code != 0 {
		t.Fatalf("listen exit %d\n%s", code, l.stderr)
	}
}

// refused runs msrpcat listen with flags, expects it to fail, and
// returns its stderr.
func refused(t *testing.T, relay string, flags ...string) string {
	t.Helper()
	args := append([]string{"listen", "--relay", relay, "--user", "bob:pb", "--count", "1"}, flags...)
	out, errs, code := run(t, "", args...)
	if code == 0 || out != "" {
		t.Fatalf("listen %q: exit %d, stdout %q: want a refusal", flags, code, out)
	}
	return errs
}

func wantAll(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, s)
		}
	}
}

// TestTLSPrivateCA: a relay whose certificate comes from a private CA is
// refused by default, with an error that names --ca and --insecure, and
// accepted with --ca, over TLS and over WSS.
func TestTLSPrivateCA(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	cert, key, caFile := ca.WriteFiles(dir, ca.Issue("relay.test"), "relay")
	d := tlsRelay(t, cert, key)
	for _, kind := range []string{"tls", "wss"} {
		t.Run(kind, func(t *testing.T) {
			errs := refused(t, d.url(kind))
			wantAll(t, "stderr without --ca", errs, "certificate signed by unknown authority", "--ca FILE", "--insecure")
			roundTrip(t, d.url(kind), "--ca", caFile)
		})
	}
}

// TestTLSInsecure: --insecure connects to a relay whose certificate does
// not verify, and says so on stderr, once per run.
func TestTLSInsecure(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	cert, key, _ := ca.WriteFiles(dir, ca.IssueNameOnly("relay.test"), "relay") // neither CA nor name verify
	d := tlsRelay(t, cert, key)
	const warning = "msrpcat: warning: --insecure: TLS certificates are not verified"
	for _, kind := range []string{"tls", "wss"} {
		t.Run(kind, func(t *testing.T) {
			l := startListen(t, d.url(kind), "--count", "1", "--insecure")
			_, errs, code := run(t, "", "send", "--relay", d.url(kind), "--user", "alice:pa", "--to", l.path, "--insecure", "hi")
			if code != 0 {
				t.Fatalf("send --insecure: exit %d\n%s", code, errs)
			}
			if n := strings.Count(errs, warning); n != 1 {
				t.Errorf("send --insecure warned %d times, want once:\n%s", n, errs)
			}
			if got := l.next(t); got != "hi" {
				t.Fatalf("listen got %q", got)
			}
			l.wait(t)
			if n := strings.Count(l.stderr.String(), warning); n != 1 {
				t.Errorf("listen --insecure warned %d times, want once:\n%s", n, l.stderr)
			}
		})
	}
}

// TestTLSServerName: a relay dialled by IP address whose certificate
// names it only by DNS name needs --server-name, and the error without it
// says so.
func TestTLSServerName(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	cert, key, caFile := ca.WriteFiles(dir, ca.IssueNameOnly("relay.test"), "relay")
	d := tlsRelay(t, cert, key)
	for _, kind := range []string{"tls", "wss"} {
		t.Run(kind, func(t *testing.T) {
			errs := refused(t, d.url(kind), "--ca", caFile)
			wantAll(t, "stderr without --server-name", errs, "doesn't contain any IP SANs", "--server-name NAME")
			errs = refused(t, d.url(kind), "--ca", caFile, "--server-name", "other.test")
			wantAll(t, "stderr with the wrong --server-name", errs, "not other.test", "--server-name NAME")
			roundTrip(t, d.url(kind), "--ca", caFile, "--server-name", "relay.test")
		})
	}
}

// TestTLSClientCertificate: a relay with --client-ca and
// --require-client-cert accepts msrpcat with --cert and --key of its CA,
// refuses it without (the error names --cert and --key, the relay's log
// the peer and the reason) and refuses a certificate of another CA. With
// --client-ca alone, clients without a certificate are still admitted
// (RFC 4976 section 6.3: they authenticate with Digest).
func TestTLSClientCertificate(t *testing.T) {
	dir, otherDir := t.TempDir(), t.TempDir()
	ca := testpki.NewCA(t)
	cert, key, caFile := ca.WriteFiles(dir, ca.Issue("relay.test"), "relay")
	aliceCert, aliceKey, _ := ca.WriteFiles(dir, ca.Issue("alice.test"), "alice")
	other := testpki.NewCA(t)
	malloryCert, malloryKey, _ := other.WriteFiles(otherDir, other.Issue("mallory.test"), "mallory")

	strict := tlsRelay(t, cert, key, "--client-ca", caFile, "--require-client-cert")
	lenient := tlsRelay(t, cert, key, "--client-ca", caFile)
	for _, kind := range []string{"tls", "wss"} {
		t.Run(kind, func(t *testing.T) {
			errs := refused(t, strict.url(kind), "--ca", caFile)
			wantAll(t, "stderr without --cert", errs, "certificate required", "--cert FILE --key FILE")
			strict.waitLog(t, "refused TLS connection from 127.0.0.1:", "didn't provide a certificate")

			errs = refused(t, strict.url(kind), "--ca", caFile, "--cert", malloryCert, "--key", malloryKey)
			wantAll(t, "stderr with another CA's certificate", errs, "refused the client certificate of --cert "+malloryCert)

			roundTrip(t, strict.url(kind), "--ca", caFile, "--cert", aliceCert, "--key", aliceKey)
			roundTrip(t, lenient.url(kind), "--ca", caFile)
		})
	}
}

// TestTLSRelayVanishesDuringHandshake: a "relay" that closes the
// connection in the middle of the TLS handshake, or answers it with
// something that is not TLS, ends msrpcat with an error at once, and no
// hint about certificates.
func TestTLSRelayVanishesDuringHandshake(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string // written after the ClientHello arrived; then close
		want   *regexp.Regexp
	}{
		{"closes", "", regexp.MustCompile(`EOF|connection reset by peer`)},
		{"not tls", "HTTP/1.1 400 Bad Request\r\n\r\n", regexp.MustCompile(`does not look like a TLS handshake`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					buf := make([]byte, 1)
					_, _ = c.Read(buf) // the ClientHello has begun
					_, _ = io.WriteString(c, tc.answer)
					c.Close()
				}
			}()
			for _, relay := range []string{"msrps://" + ln.Addr().String() + ";tcp", "wss://" + ln.Addr().String() + "/"} {
				start := time.Now()
				errs := refused(t, relay)
				if !tc.want.MatchString(errs) || strings.Contains(errs, "--ca") || strings.Contains(errs, "--cert") {
					t.Errorf("%s: stderr %q: want %q and no certificate hint", relay, errs, tc.want)
				}
				if d := time.Since(start); d > 8*time.Second {
					t.Errorf("%s: took %v", relay, d)
				}
			}
		})
	}
}

// TestSIPOverTLS: answer serves SIP over TLS with --cert and --key (a
// private CA's certificate); call reaches it with --ca, and without it is
// refused with the error naming --ca and --insecure. The same flags and
// the same TLS configuration serve MSRP and SIP.
func TestSIPOverTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	cert, key, caFile := ca.WriteFiles(dir, ca.Issue("bob.test"), "bob")
	ans, uri := startAnswer(t, "--sip-listen", "tls:127.0.0.1:0", "--cert", cert, "--key", key, "--count", "1")
	if !strings.HasSuffix(uri, ";transport=tls") {
		t.Fatalf("answer's contact %q: want transport=tls", uri)
	}
	_, errs, code := callText(t, uri, "refused")
	if code == 0 {
		t.Fatal("call without --ca: exit 0")
	}
	wantAll(t, "call's stderr without --ca", errs, "certificate signed by unknown authority", "--ca FILE", "--insecure")

	if _, errs, code := callText(t, uri, "hello over sip tls", "--ca", caFile); code != 0 {
		t.Fatalf("call --ca: exit %d\n%s", code, errs)
	}
	if got := ans.next(t, 10*time.Second); !strings.HasSuffix(got, ": hello over sip tls") {
		t.Errorf("answer printed %q", got)
	}
	if code := ans.wait(t, 10*time.Second); code != 0 {
		t.Errorf("answer exit %d after --count 1", code)
	}
	// A tls: listener without a certificate is refused before it starts.
	_, errs, code = run(t, "", "answer", "--sip-listen", "tls:127.0.0.1:0")
	if code == 0 || !strings.Contains(errs, "--sip-listen tls:127.0.0.1:0 needs --cert and --key") {
		t.Errorf("answer on tls: without --cert: exit %d, stderr %q", code, errs)
	}
}
