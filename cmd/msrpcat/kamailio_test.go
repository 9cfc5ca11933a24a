package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startKamailioSIP starts the SIP registrar/proxy of
// testdata/kamailio-sip on a free port (UDP and TCP) and returns its
// address, or skips the test loudly when Kamailio is not installed and
// MSRPD_KAMAILIO=1 (set by .ci/run after installing it) is not given.
func startKamailioSIP(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "kamailio-sip")
	if _, err := exec.LookPath("kamailio"); err != nil && os.Getenv("MSRPD_KAMAILIO") != "1" {
		t.Skip("\n*** KAMAILIO SIP INTEROP TEST SKIPPED: kamailio is not installed. ***\n" +
			"*** Run with MSRPD_KAMAILIO=1 (as root, Debian) to let start.sh install it,    ***\n" +
			"*** or run scripts/install-kamailio.sh.                                        ***")
	}
	port := freeUDPTCPPort(t)
	env := append(os.Environ(), "RUN_DIR="+t.TempDir(), "BIND_IP=127.0.0.1", "SIP_PORT="+strconv.Itoa(port))
	script := func(name string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // may apt-get install
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", filepath.Join(dir, name))
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	out, err := script("start.sh")
	if err != nil {
		t.Fatalf("start.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := script("stop.sh"); err != nil {
			t.Errorf("stop.sh: %v\n%s", err, out)
		}
	})
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// freeUDPTCPPort finds a loopback port free for both UDP and TCP.
func freeUDPTCPPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		u.Close()
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port for UDP and TCP")
	return 0
}

// TestKamailioSIP: answer REGISTERs at Kamailio (Digest, 401) and
// refreshes the binding; call reaches it by address-of-record through
// Kamailio as outbound proxy (Digest, 407), over UDP and over TCP; the
// MSRP session goes through msrpd (ws on the caller's side, tcp on the
// answerer's).
func TestKamailioSIP(t *testing.T) {
	k := startKamailioSIP(t)
	r := newTestRelay(t)
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			proxy := "sip:" + k
			if tr == "tcp" {
				proxy += ";transport=tcp"
			}
			ans := start(t, "answer", "--sip-listen", "127.0.0.1:0", "--sip-user", "bob:bobpw", "--sip-domain", "msrpd.test",
				"--sip-registrar", proxy, "--sip-expires", "2s", "--sip-timeout", "3s", "--count", "2",
				"--relay", r.TCP, "--user", "bob:pb")
			ans.waitStderr(t, `REGISTER sip:\S+ → 401 → 200 OK \(expires 2s\)`, 20*time.Second)
			// The binding is refreshed before its 2s run out.
			ans.waitStderr(t, `(?s)REGISTER sip:\S+ → 401 → 200 OK \(expires 2s\).*REGISTER sip:\S+ → (401 → )?200 OK \(expires 2s\)`, 5*time.Second)
			for i, text := range []string{"hello through kamailio", "and again"} {
				_, errs, code := run(t, "", "call", "--sip-user", "alice:alicepw", "--sip-domain", "msrpd.test", "--sip-proxy", proxy,
					"--sip-timeout", "3s", "--relay", r.WS, "--user", "alice:pa", "sip:bob@msrpd.test", text)
				if code != 0 {
					t.Fatalf("call %d: exit %d, stderr:\n%s", i, code, errs)
				}
				if !strings.Contains(errs, "407 Proxy Authentication Required") || !strings.Contains(errs, "200 OK → ACK") {
					t.Errorf("call %d: status line lacks the 407 challenge or the 200:\n%s", i, errs)
				}
				if got := ans.next(t, 10*time.Second); got != "sip:alice@msrpd.test: "+text {
					t.Errorf("answer printed %q", got)
				}
			}
			if code := ans.wait(t, 15*time.Second); code != 0 {
				t.Errorf("answer exit %d", code)
			}
			ans.waitStderr(t, `unREGISTER sip:\S+ → (401 → )?200 OK`, time.Second)
			// Unregistered: the AOR is gone.
			_, errs, code := run(t, "", "call", "--sip-user", "alice:alicepw", "--sip-domain", "msrpd.test", "--sip-proxy", proxy,
				"--sip-timeout", "3s", "sip:bob@msrpd.test", "anyone?")
			if code == 0 || !strings.Contains(errs, "404") {
				t.Errorf("call after unREGISTER: exit %d, want 404:\n%s", code, errs)
			}
		})
	}
}
