package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/testpki"
)

// badFlag is one bad value msrpd must refuse with one clear line.
type badFlag struct {
	flag string            // the flag the case is about
	args []string          // command line
	env  map[string]string // environment
	want string            // in the error line
}

// badFlags has at least one case for every flag of msrpd (checked by
// TestEveryFlagHasABadValueCase). Files are made by the test: ca.pem
// holds no certificate, so nothing starts.
func badFlags(dir string) []badFlag {
	missing := filepath.Join(dir, "missing.pem")
	notPEM := filepath.Join(dir, "not.pem")
	cert, key := filepath.Join(dir, "relay-cert.pem"), filepath.Join(dir, "relay-key.pem")
	otherKey := filepath.Join(dir, "other-key.pem")
	addr := "want HOST:PORT such as 127.0.0.1:2855, [::1]:2855 or :2855"
	dur := "use a duration such as 5s, 1m or 1h30m, or a number of seconds"
	size := "want a size in bytes such as 65536, 64KiB or 16MiB"
	return []badFlag{
		{"ws", []string{"--ws", "8855"}, nil, `--ws "8855": ` + addr},
		{"wss", []string{"--wss", "localhost"}, nil, `--wss "localhost": ` + addr},
		{"tcp", []string{"--tcp", "127.0.0.1:2855,2856"}, nil, `--tcp "2856": ` + addr},
		{"tcp", nil, map[string]string{"MSRPD_TCP": "2855"}, `MSRPD_TCP: --tcp "2855": ` + addr},
		{"tls", []string{"--tls", "127.0.0.1:99999"}, nil, `--tls "127.0.0.1:99999": ` + addr},
		{"tls", []string{"--tls", "127.0.0.1:0"}, nil, "--tls and --wss need --cert and --key"},
		{"cert", []string{"--cert", cert}, nil, "--cert needs --key, the certificate's private key"},
		{"cert", []string{"--cert", missing, "--key", key}, nil, "--cert " + missing + " --key " + key + ": open " + missing + ": no such file"},
		{"key", []string{"--key", key}, nil, "--key needs --cert, the certificate it belongs to"},
		{"key", []string{"--cert", cert, "--key", otherKey}, nil, "private key does not match public key"},
		{"client-ca", []string{"--client-ca", missing}, nil, "--client-ca: open " + missing + ": no such file"},
		{"client-ca", []string{"--client-ca", notPEM}, nil, "--client-ca " + notPEM + ": no PEM certificates in it"},
		{"require-client-cert", []string{"--require-client-cert"}, nil, "--require-client-cert needs --client-ca"},
		{"require-client-cert", []string{"--require-client-cert=sometimes"}, nil, `--require-client-cert "sometimes": want true or false`},
		{"host", []string{"--host", "relay example"}, nil, `--host "relay example": want a host name or an IP address`},
		{"advertise", []string{"--advertise", "relay.example.com"}, nil, `--advertise "relay.example.com": want HOST:PORT such as relay.example.com:2855`},
		{"advertise", []string{"--advertise", ":2855"}, nil, `--advertise ":2855": want HOST:PORT`},
		{"ws-origin", []string{"--ws-origin", "chat.example.com"}, nil, `--ws-origin "chat.example.com": want an origin such as https://chat.example.com`},
		{"outbound-allow", []string{"--outbound-allow", "10.0.0.0/33"}, nil, `--outbound-allow "10.0.0.0/33": want a CIDR prefix such as 10.0.0.0/8`},
		{"outbound-deny", []string{"--outbound-deny", "169.254.0.0/16,metadata server"}, nil, `--outbound-deny "metadata server": want a CIDR prefix`},
		{"outbound-plain", []string{"--outbound-plain=yes"}, nil, `--outbound-plain "yes": want true or false`},
		{"web", []string{"--web=maybe"}, nil, `--web "maybe": want true or false (--web alone means true)`},
		{"web", nil, map[string]string{"MSRPD_WEB": "maybe"}, `MSRPD_WEB="maybe" (--web): want true or false`},
		{"realm", []string{"--realm", `my "lab"`}, nil, `--realm "my \"lab\"": a realm cannot hold quotes`},
		{"user", []string{"--user", "alice"}, nil, `--user "alice": want NAME:PASSWORD`},
		{"user", []string{"--user", ":secret"}, nil, "--user: want NAME:PASSWORD; the name is empty"},
		{"users-file", []string{"--users-file", missing}, nil, "--users-file: relay: htdigest: open " + missing + ": no such file"},
		{"max-auth-failures-per-ip", []string{"--max-auth-failures-per-ip", "0"}, nil, `--max-auth-failures-per-ip "0": want a whole number of at least 1, or -1 for no limit`},
		{"expires", []string{"--expires", "half an hour"}, nil, `--expires "half an hour": ` + dur},
		{"expires", []string{"--expires", "0"}, nil, `--expires "0": must be more than 0`},
		{"min-expires", []string{"--min-expires", "1h", "--expires", "30m"}, nil, "want --min-expires <= --expires <= --max-expires; have 1h0m0s, 30m0s, 2h0m0s"},
		{"max-expires", []string{"--max-expires", "-1h"}, nil, `--max-expires "-1h": must not be negative`},
		{"ping-interval", []string{"--ping-interval", "5x"}, nil, `--ping-interval "5x": ` + dur},
		{"ping-interval", nil, map[string]string{"MSRPD_PING_INTERVAL": "20 s"}, `MSRPD_PING_INTERVAL="20 s" (--ping-interval): ` + dur},
		{"pong-timeout", []string{"--pong-timeout", "0"}, nil, `--pong-timeout "0": must be more than 0`},
		{"keepalive-misses", []string{"--keepalive-misses", "two"}, nil, `--keepalive-misses "two": want a whole number of at least 1`},
		{"keepalive", []string{"--keepalive", "ping"}, nil, `--keepalive "ping": want auto, frames, send or off`},
		{"keepalive", nil, map[string]string{"MSRPD_KEEPALIVE": "bogus"}, `MSRPD_KEEPALIVE="bogus" (--keepalive): want auto, frames, send or off`},
		{"max-chunk", []string{"--max-chunk", "16MB2"}, nil, `--max-chunk "16MB2": ` + size},
		{"max-chunk", []string{"--max-chunk", "4GiB"}, nil, `--max-chunk "4GiB": ` + size},
		{"forward-chunk", []string{"--forward-chunk", "1KiB"}, nil, `--forward-chunk "1KiB": must be at least 2KiB`},
		{"forward-chunk", []string{"--forward-chunk", "1MiB", "--max-chunk", "64KiB"}, nil, "--forward-chunk 1MiB is larger than --max-chunk 64KiB"},
		{"max-connections", []string{"--max-connections", "-5"}, nil, `--max-connections "-5": want a whole number of at least 1, or -1 for no limit`},
		{"domain", []string{"--domain", "example.com=relay one"}, nil, `--domain "example.com=relay one": want NAME or NAME=HOST (host names)`},
		{"dns", []string{"--dns", "8.8.8.8"}, nil, `--dns "8.8.8.8": want HOST:PORT such as relay.example.com:2855 or 192.0.2.7:2855`},
		{"users-db", []string{"--users-db", "oracle://u:hunter2@db/x"}, nil, "--users-db: "},
		{"users-db-query", []string{"--users-db-query", "SELECT ha1 FROM x WHERE u = $1 AND r = $2"}, nil, "--users-db-query needs --users-db"},
		{"users-db-cache", []string{"--users-db-cache", "half a minute"}, nil, `--users-db-cache "half a minute": ` + dur},
		{"handshake-timeout", []string{"--handshake-timeout", "0"}, nil, `--handshake-timeout "0": must be more than 0`},
		{"header-timeout", []string{"--header-timeout", "30 s"}, nil, `--header-timeout "30 s": ` + dur},
		{"body-timeout", nil, map[string]string{"MSRPD_BODY_TIMEOUT": "-1m"}, `MSRPD_BODY_TIMEOUT="-1m" (--body-timeout): must not be negative`},
		{"block-unknown-methods", []string{"--block-unknown-methods=2"}, nil, `--block-unknown-methods "2": want true or false`},
		{"log-level", []string{"--log-level", "verbose"}, nil, `--log-level "verbose": want error, warn, info, debug or trace`},
		{"debug-addr", []string{"--debug-addr", "6060"}, nil, `--debug-addr "6060": ` + addr},
		{"metrics-addr", []string{"--metrics-addr", "9855"}, nil, `--metrics-addr "9855": ` + addr},
		{"admin-addr", nil, map[string]string{"MSRPD_TCP": "127.0.0.1:0", "MSRPD_ADMIN_ADDR": "localhost"}, `MSRPD_ADMIN_ADDR: --admin-addr "localhost": ` + addr},
		{"accounting-log", []string{"--accounting-log", filepath.Join(dir, "no-such-dir", "acct.log")}, nil,
			"--accounting-log: open " + filepath.Join(dir, "no-such-dir", "acct.log") + ": no such file"},
		{"drain-delay", []string{"--drain-delay", "5 s"}, nil, `--drain-delay "5 s": ` + dur},
		{"shutdown-timeout", []string{"--shutdown-timeout", "10 seconds"}, nil, `--shutdown-timeout "10 seconds": ` + dur},
		{"", []string{"--ping-intervall", "5s"}, nil, "unknown flag --ping-intervall (msrpd --help lists the flags)"},
		{"", []string{"--realm"}, nil, "--realm needs a value"},
	}
}

// TestBadFlagValues: every bad value is refused before anything starts,
// with one line that names the flag (two dashes, as the help does) or
// the environment variable, and says what a good value looks like.
func TestBadFlagValues(t *testing.T) {
	dir := t.TempDir()
	writeFlagFiles(t, dir)
	for _, tc := range badFlags(dir) {
		name := strings.Join(tc.args, " ")
		for k, v := range tc.env {
			name += k + "=" + v
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// A loopback listener on a free port, so that nothing
			// but the case can fail (the default ports may be taken).
			args := tc.args
			if tc.env == nil {
				args = append([]string{"--tcp", "127.0.0.1:0"}, args...)
			}
			cmd := exec.CommandContext(ctx, msrpdBin, args...)
			cmd.Env = os.Environ()
			for k, v := range tc.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			checkFlagError(t, "msrpd", string(out), err, tc.want)
			if strings.Contains(string(out), "hunter2") {
				t.Errorf("the output shows a password: %q", out)
			}
		})
	}
}

// checkFlagError asserts output is one line, "<command>: " and want.
func checkFlagError(t *testing.T, command, out string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("exit 0, output %q; want a refusal", out)
	}
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, command+": ") {
		t.Fatalf("output is not one line %q:\n%s", command+": ...", out)
	}
	if !strings.Contains(out, want) {
		t.Errorf("output %q\nwant %q", strings.TrimSpace(out), want)
	}
	if strings.Contains(out, "parse error") || singleDash.MatchString(out) {
		t.Errorf("output %q: the parser's words (parse error, -flag)", out)
	}
}

var singleDash = regexp.MustCompile(`(^|[\s(])-[a-z]`)

// writeFlagFiles writes the files badFlags names: a certificate and key,
// a key of another certificate, and a file with no PEM in it.
func writeFlagFiles(t *testing.T, dir string) {
	ca := testpki.NewCA(t)
	ca.WriteFiles(dir, ca.Issue("relay.test"), "relay")
	ca.WriteFiles(dir, ca.Issue("other.test"), "other")
	if err := os.WriteFile(filepath.Join(dir, "not.pem"), []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEveryFlagHasABadValueCase keeps TestBadFlagValues complete: a new
// flag needs a case.
func TestEveryFlagHasABadValueCase(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range badFlags(t.TempDir()) {
		covered[tc.flag] = true
	}
	for _, f := range flags() {
		if name := f.Names()[0]; !covered[name] {
			t.Errorf("no bad-value case for --%s in badFlags", name)
		}
	}
}

// TestDurationFlagsTakeSeconds: a bare number is seconds, as SIP and
// MSRP configurations write Expires: msrpd --ping-interval 5 starts.
func TestDurationFlagsTakeSeconds(t *testing.T) {
	d := startDaemon(t, 1, "--tcp", "127.0.0.1:0", "--user", "alice:alicepw", "--ping-interval", "5", "--pong-timeout", "2.5",
		"--expires", "600", "--min-expires", "60", "--max-expires", "3600", "--shutdown-timeout", "1")
	c := dialRaw(t, d.addrs["tcp"])
	c.auth("alice", "alicepw")
	d.stop(time.Second)
}
