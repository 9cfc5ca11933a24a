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

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/internal/testpki"
)

// badFlag is one bad value a command must refuse with one clear line.
type badFlag struct {
	command string            // "" for the flags every command has (tried on listen), "sip" for those of call and answer (tried on call)
	flag    string            // the flag the case is about
	args    []string          // after the command's required flags
	env     map[string]string // environment
	want    string            // in the error line
}

// required are the flags each command needs; the relay is never dialled
// (every case fails before).
var required = map[string][]string{
	"listen": {"--relay", "ws://127.0.0.1:1/", "--user", "bob:pb"},
	"send":   {"--relay", "ws://127.0.0.1:1/", "--user", "bob:pb", "--to", "msrp://127.0.0.1:1/s;tcp"},
	"chat":   {"--relay", "ws://127.0.0.1:1/", "--user", "bob:pb"},
	"sdp":    {"--relay", "ws://127.0.0.1:1/", "--user", "bob:pb"},
	"bench":  {"--relay", "ws://127.0.0.1:1/", "--user", "bob:pb", "--user2", "alice:pa"},
	"call":   nil, // and the SIP-URI after the flags
	"answer": {"--sip-listen", "127.0.0.1:0"},
}

func commands() []*cli.Command {
	return []*cli.Command{listenCommand(), sendCommand(), chatCommand(), sdpCommand(), benchCommand(), callCommand(), answerCommand()}
}

// badFlags has a case for every flag of every command (checked by
// TestEveryFlagHasABadValueCase).
func badFlags(dir string) []badFlag {
	missing := filepath.Join(dir, "missing.pem")
	notPEM := filepath.Join(dir, "not.pem")
	cert, key, otherKey := filepath.Join(dir, "alice-cert.pem"), filepath.Join(dir, "alice-key.pem"), filepath.Join(dir, "other-key.pem")
	noPath := filepath.Join(dir, "no-path.sdp")
	dur := "use a duration such as 5s, 1m or 1h30m, or a number of seconds"
	relayWant := "want ws://HOST:PORT/PATH, wss://HOST:PORT/PATH, msrp://HOST:PORT;tcp or msrps://HOST:PORT;tcp"
	return []badFlag{
		{"", "relay", []string{"--relay", "127.0.0.1:2855"}, nil, `--relay "127.0.0.1:2855": ` + relayWant},
		{"", "relay", []string{"--relay", "msrp://127.0.0.1:2855;ws"}, nil, `--relay "msrp://127.0.0.1:2855;ws": ` + relayWant},
		{"", "relay", []string{"--relay", "ws://127.0.0.1:2/,relay.example.com"}, nil, `--relay "relay.example.com": ` + relayWant},
		{"", "dns", []string{"--dns", "127.0.0.53"}, nil, `--dns "127.0.0.53": want HOST:PORT`},
		{"", "user", []string{"--user", "bob"}, nil, `--user "bob": want NAME:PASSWORD`},
		{"", "relay-uri", []string{"--relay-uri", "relay.example.com"}, nil, `--relay-uri "relay.example.com": want an MSRP URI such as msrp://HOST:PORT;tcp`},
		{"", "digest-method", []string{"--digest-method", "md5"}, nil, `--digest-method "md5": want a method name in capitals, such as AUTH or MSRP`},
		{"", "expires", []string{"--expires", "1 hour"}, nil, `--expires "1 hour": ` + dur},
		{"", "ping-interval", []string{"--ping-interval", "5x"}, nil, `--ping-interval "5x": ` + dur},
		{"", "pong-timeout", []string{"--pong-timeout", "0s"}, nil, `--pong-timeout "0s": must be more than 0`},
		{"", "keepalive", []string{"--keepalive", "auto"}, nil, `--keepalive "auto": want frames, send or off`},
		{"", "reconnect-attempts", []string{"--reconnect-attempts", "-2"}, nil, `--reconnect-attempts "-2": want a whole number of at least 0, or -1 for forever`},
		{"", "log-level", []string{"--log-level", "loud"}, nil, `--log-level "loud": want error, warn, info, debug or trace`},
		{"", "ca", []string{"--ca", missing}, nil, "--ca " + missing + ": no such file or directory"},
		{"", "ca", []string{"--ca", notPEM}, nil, "--ca " + notPEM + ": no PEM certificates in it"},
		{"", "insecure", []string{"--insecure=maybe"}, nil, `--insecure "maybe": want true or false`},
		{"", "insecure", []string{"--insecure", "--ca", missing}, nil, "--insecure and --ca contradict each other"},
		{"", "cert", []string{"--cert", cert}, nil, "--cert needs --key, the certificate's private key"},
		{"", "cert", []string{"--cert", missing, "--key", key}, nil, "--cert " + missing + ": no such file or directory"},
		{"", "key", []string{"--key", key}, nil, "--key needs --cert, the certificate it belongs to"},
		{"", "key", []string{"--cert", cert, "--key", otherKey}, nil, "--key " + otherKey + ": with certificate " + cert + ": tls: private key does not match public key"},
		{"", "server-name", []string{"--server-name", "relay example"}, nil, `--server-name "relay example": want a host name or an IP address`},
		{"", "", []string{"--ping-intervall", "5s"}, nil, "unknown flag --ping-intervall (msrpcat listen --help lists the flags)"},
		{"listen", "out", []string{"--out", notPEM}, nil, "--out: mkdir " + notPEM + ": not a directory"},
		{"listen", "count", []string{"--count", "-1"}, nil, `--count "-1": want a whole number of at least 0`},
		{"listen", "relay", nil, map[string]string{"MSRPCAT_RELAY": "relay.example.com"}, `MSRPCAT_RELAY: --relay "relay.example.com": ` + relayWant},
		{"send", "to", []string{"--to", "bob"}, nil, `--to "bob": want an MSRP path`},
		{"send", "file", []string{"--file", missing}, nil, "--file: open " + missing + ": no such file"},
		{"send", "chunk", []string{"--chunk", "0"}, nil, `--chunk "0": must be more than 0`},
		{"send", "window", []string{"--window", "none"}, nil, `--window "none": want a whole number of at least 1`},
		{"send", "content-type", []string{"--content-type", "plain"}, nil, `--content-type "plain": want a MIME type such as text/plain`},
		{"send", "report", []string{"--report=please"}, nil, `--report "please": want true or false`},
		{"send", "timeout", []string{"--timeout", "0"}, nil, `--timeout "0": must be more than 0`},
		{"send", "linger", []string{"--linger", "-1s"}, nil, `--linger "-1s": must not be negative`},
		{"send", "ping-interval", []string{"--ping-interval", "5y"}, nil, `--ping-interval "5y": ` + dur},
		{"chat", "to", []string{"--to", "msrp://127.0.0.1:1;tcp bob"}, nil, `--to "msrp://127.0.0.1:1;tcp bob": want an MSRP path`},
		{"chat", "ping-interval", []string{"--ping-interval", "5y"}, nil, `--ping-interval "5y": ` + dur},
		{"sdp", "remote-sdp", []string{"--remote-sdp", missing}, nil, "--remote-sdp: open " + missing + ": no such file"},
		{"sdp", "remote-sdp", []string{"--remote-sdp", noPath}, nil, "--remote-sdp " + noPath + ": no a=path line"},
		{"sdp", "print-only", []string{"--print-only=sure"}, nil, `--print-only "sure": want true or false`},
		{"sdp", "ping-interval", []string{"--ping-interval", "5y"}, nil, `--ping-interval "5y": ` + dur},
		{"bench", "user2", []string{"--user2", "alice"}, nil, `--user2 "alice": want NAME:PASSWORD`},
		{"bench", "pairs", []string{"--pairs", "0"}, nil, `--pairs "0": want a whole number of at least 1`},
		{"bench", "messages", []string{"--messages", "1e6"}, nil, `--messages "1e6": want a whole number of at least 1`},
		{"bench", "duration", []string{"--duration", "a minute"}, nil, `--duration "a minute": ` + dur},
		{"bench", "size", []string{"--size", "10"}, nil, `--size "10": must be at least 24`},
		{"bench", "chunk", []string{"--chunk", "4096MiB"}, nil, `--chunk "4096MiB": too large`},
		{"bench", "window", []string{"--window", "0"}, nil, `--window "0": want a whole number of at least 1`},
		{"bench", "rate", []string{"--rate", "-5"}, nil, `--rate "-5": want a number of at least 0`},
		{"bench", "connect-parallel", []string{"--connect-parallel", "0"}, nil, `--connect-parallel "0": want a whole number of at least 1`},
		{"bench", "drain-timeout", []string{"--drain-timeout", "10sec"}, nil, `--drain-timeout "10sec": ` + dur},
		{"bench", "json", []string{"--json=on"}, nil, `--json "on": want true or false`},
		{"bench", "cpuprofile", []string{"--cpuprofile", filepath.Join(missing, "cpu.prof")}, nil, "--cpuprofile: open " + filepath.Join(missing, "cpu.prof") + ": no such file"},
		{"bench", "ping-interval", []string{"--ping-interval", "5y"}, nil, `--ping-interval "5y": ` + dur},
		{"sip", "sip-listen", []string{"--sip-listen", "5060"}, nil, `--sip-listen "5060": want [udp:|tcp:|tls:]HOST:PORT such as 127.0.0.1:5060 or tls:127.0.0.1:5061`},
		{"sip", "sip-listen", []string{"--sip-listen", "tls:127.0.0.1:0"}, nil, "--sip-listen tls:127.0.0.1:0 needs --cert and --key, the certificate to serve"},
		{"sip", "sip-host", []string{"--sip-host", "my host"}, nil, `--sip-host "my host": want a host name or an IP address`},
		{"sip", "sip-user", []string{"--sip-user", ":pw"}, nil, `--sip-user ":pw": want NAME[:PASSWORD]; the name is empty`},
		{"sip", "sip-domain", []string{"--sip-domain", "example.com/x"}, nil, `--sip-domain "example.com/x": want a host name or an IP address`},
		{"sip", "sip-proxy", []string{"--sip-proxy", "proxy.example.com:5060"}, nil, `--sip-proxy "proxy.example.com:5060": want a SIP URI such as sip:proxy.example.com:5060;transport=tcp`},
		{"sip", "sip-timeout", []string{"--sip-timeout", "0"}, nil, `--sip-timeout "0": must be more than 0`},
		{"sip", "msrp-listen", []string{"--msrp-listen", "2855"}, nil, `--msrp-listen "2855": want HOST:PORT`},
		{"sip", "msrp-setup", []string{"--msrp-setup", "actpass"}, nil, `--msrp-setup "actpass": want auto, active or passive`},
		{"sip", "accept-types", []string{"--accept-types", "text"}, nil, `--accept-types "text": want MIME types such as text/plain or message/cpim, or *, separated by blanks (not "text")`},
		{"sip", "cpim", []string{"--cpim", "maybe"}, nil, `--cpim "maybe": want auto, on or off`},
		{"sip", "out", []string{"--out", notPEM}, nil, "--out: mkdir " + notPEM + ": not a directory"},
		{"sip", "timeout", []string{"--timeout", "forever"}, nil, `--timeout "forever": ` + dur},
		{"sip", "chunk", []string{"--chunk", "-1"}, nil, `--chunk "-1": must be more than 0`},
		{"sip", "verbose", []string{"--verbose=loud"}, nil, `--verbose "loud": want true or false`},
		{"call", "file", []string{"--file", missing}, nil, "--file: open " + missing + ": no such file"},
		{"call", "content-type", []string{"--content-type", "pdf"}, nil, `--content-type "pdf": want a MIME type`},
		{"call", "interactive", []string{"--interactive=1x"}, nil, `--interactive "1x": want true or false`},
		{"call", "report", []string{"--report=y"}, nil, `--report "y": want true or false`},
		{"call", "ring-timeout", []string{"--ring-timeout", "0"}, nil, `--ring-timeout "0": must be more than 0`},
		{"call", "linger", []string{"--linger", "short"}, nil, `--linger "short": ` + dur},
		{"call", "ping-interval", []string{"--ping-interval", "5y"}, nil, `--ping-interval "5y": ` + dur},
		{"answer", "sip-registrar", []string{"--sip-registrar", "registrar.example.com"}, nil, `--sip-registrar "registrar.example.com": want a SIP URI`},
		{"answer", "sip-expires", []string{"--sip-expires", "0"}, nil, `--sip-expires "0": must be more than 0`},
		{"answer", "reject", []string{"--reject", "busy"}, nil, `--reject "busy": want a whole number of at least 0`},
		{"answer", "reject", []string{"--reject", "200"}, nil, "--reject 200: want a final failure code, 300 to 699"},
		{"answer", "max-calls", []string{"--max-calls", "0"}, nil, `--max-calls "0": want a whole number of at least 1`},
		{"answer", "count", []string{"--count", "all"}, nil, `--count "all": want a whole number of at least 0`},
		{"answer", "answer-delay", []string{"--answer-delay", "1 ring"}, nil, `--answer-delay "1 ring": ` + dur},
		{"answer", "interactive", []string{"--interactive=no way"}, nil, `--interactive "no way": want true or false`},
		{"answer", "sip-timeout", []string{"--sip-timeout", "5y"}, nil, `--sip-timeout "5y": ` + dur},
		{"answer", "ping-interval", []string{"--ping-interval", "5y"}, nil, `--ping-interval "5y": ` + dur},
	}
}

// TestBadFlagValues: every bad value is refused before anything
// connects, with one line that names the flag (two dashes, as the help
// does) or the environment variable, and says what a good value is.
func TestBadFlagValues(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	ca.WriteFiles(dir, ca.Issue("alice.test"), "alice")
	ca.WriteFiles(dir, ca.Issue("other.test"), "other")
	if err := os.WriteFile(filepath.Join(dir, "not.pem"), []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "no-path.sdp"), []byte("v=0\r\nm=message 9 TCP/MSRP *\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range badFlags(dir) {
		command := tc.command
		switch command {
		case "":
			command = "listen"
		case "sip":
			command = "call"
		}
		args := append([]string{command}, required[command]...)
		args = append(args, tc.args...)
		if command == "call" {
			args = append(args, "sip:bob@127.0.0.1:1")
		}
		name := command + " " + strings.Join(tc.args, " ")
		for k, v := range tc.env {
			name += " " + k + "=" + v
			args = removeFlag(args, envFlag[k])
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, msrpcatBin, args...)
			cmd.Env = os.Environ()
			for k, v := range tc.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			checkFlagError(t, "msrpcat", string(out), err, tc.want)
		})
	}
}

// envFlag is the flag of each environment variable.
var envFlag = map[string]string{"MSRPCAT_RELAY": "relay", "MSRPCAT_USER": "user"}

// removeFlag drops --name and its value from args.
func removeFlag(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--"+name {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
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

// TestEveryFlagHasABadValueCase keeps TestBadFlagValues complete: each
// flag of each command has a case, its own or (for the flags every
// command has) a common one.
func TestEveryFlagHasABadValueCase(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range badFlags(t.TempDir()) {
		covered[tc.command+" "+tc.flag] = true
	}
	common, sip := map[string]bool{}, map[string]bool{}
	for _, f := range commonFlags() {
		common[f.Names()[0]] = true
	}
	for _, f := range sipFlags("", "") {
		if name := f.Names()[0]; !common[name] {
			sip[name] = true
		}
	}
	for _, cmd := range commands() {
		for _, f := range cmd.Flags {
			name := f.Names()[0]
			if !covered[cmd.Name+" "+name] && !(common[name] && covered[" "+name]) && !(sip[name] && covered["sip "+name]) {
				t.Errorf("no bad-value case for msrpcat %s --%s in badFlags", cmd.Name, name)
			}
		}
		// And each command explains errors itself (OnUsageError is set
		// per command): one common flag tried on each.
		if !covered[cmd.Name+" ping-interval"] && cmd.Name != "listen" {
			t.Errorf("no case tries a common flag on msrpcat %s", cmd.Name)
		}
	}
}
