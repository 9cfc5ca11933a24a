package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenSend(t *testing.T) {
	r := newTestRelay(t)
	for _, tc := range []struct{ listen, send string }{{"ws", "tcp"}, {"tcp", "ws"}} {
		t.Run(tc.listen+"-"+tc.send, func(t *testing.T) {
			l := startListen(t, r.URL(tc.listen), "--count", "3")
			if !strings.Contains(l.path, ";tcp msrp://") {
				t.Errorf("first line %q is not a path", l.path)
			}
			base := []string{"send", "--relay", r.URL(tc.send), "--user", "alice:pa", "--to", l.path}
			if _, errs, code := run(t, "", append(base, "--report", "hello", "there")...); code != 0 {
				t.Fatalf("send TEXT: exit %d, stderr:\n%s", code, errs)
			}
			if _, errs, code := run(t, "line one\nline two\n", base...); code != 0 {
				t.Fatalf("send stdin: exit %d, stderr:\n%s", code, errs)
			}
			got := []string{l.next(t), l.next(t), l.next(t)}
			want := []string{"hello there", "line one", "line two"}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("line %d: %q, want %q", i, got[i], want[i])
				}
			}
			if code := l.wait(t); code != 0 {
				t.Errorf("listen exit %d", code)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	r := newTestRelay(t)
	l := startListen(t, r.WS)
	slash := strings.LastIndex(strings.Fields(l.path)[0], "/")
	gone := l.path[:slash+1] + "x" + l.path[slash+1:] // a session that does not exist
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no such session", []string{"--relay", r.TCP, "--user", "alice:pa", "--to", gone, "hi"}, "481"},
		{"bad password", []string{"--relay", r.TCP, "--user", "alice:nope", "--to", l.path, "hi"}, "authentication failed"},
		{"bad user flag", []string{"--relay", r.TCP, "--user", "alice", "--to", l.path, "hi"}, "NAME:PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, "", append([]string{"send"}, tc.args...)...)
			if code == 0 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q: want non-zero and %q", code, errs, tc.want)
			}
		})
	}
}

func TestSendFile(t *testing.T) {
	r := newTestRelay(t)
	dir := t.TempDir()
	l := startListen(t, r.TCP, "--count", "1", "--out", dir)
	body := make([]byte, 300<<10)
	_, _ = rand.Read(body)
	f := filepath.Join(t.TempDir(), "blob.bin")
	if err := os.WriteFile(f, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run(t, "", "send", "--relay", r.WS, "--user", "alice:pa", "--to", l.path, "--file", f, "--chunk", "4096"); code != 0 {
		t.Fatalf("send --file: exit %d\n%s", code, errs)
	}
	line := l.next(t)
	i := strings.Index(line, "saved as ")
	if i < 0 {
		t.Fatalf("listen printed %q", line)
	}
	name := strings.TrimSuffix(line[i+len("saved as "):], "]")
	got, err := os.ReadFile(name)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("saved file %s: %d bytes, err %v; want %d bytes identical", name, len(got), err, len(body))
	}
}

func TestBenchJSON(t *testing.T) {
	r := newTestRelay(t)
	for _, kind := range []string{"ws", "tcp"} {
		t.Run(kind, func(t *testing.T) {
			out, errs, code := run(t, "", "bench", "--relay", r.URL(kind), "--user", "alice:pa", "--user2", "bob:pb",
				"--pairs", "3", "--messages", "200", "--size", "3000", "--chunk", "1024", "--window", "8", "--json")
			if code != 0 {
				t.Fatalf("bench: exit %d\n%s\n%s", code, out, errs)
			}
			var res map[string]any
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("bench output %q: %v", out, err)
			}
			for k, want := range map[string]any{"transport": kind, "pairs": 3.0, "messages": 600.0, "size": 3000.0,
				"chunk": 1024.0, "window": 8.0, "lost": 0.0, "corrupted": 0.0, "errors": 0.0} {
				if res[k] != want {
					t.Errorf("%s = %v, want %v", k, res[k], want)
				}
			}
			for _, k := range []string{"relay", "seconds", "msgs_per_sec", "mb_per_sec", "p50_ms", "p99_ms", "p999_ms"} {
				if _, ok := res[k]; !ok {
					t.Errorf("no %q in %s", k, out)
				}
			}
		})
	}
}

func TestSDP(t *testing.T) {
	r := newTestRelay(t)
	remote := filepath.Join(t.TempDir(), "remote.sdp")
	peer := "msrp://127.0.0.1:2855/abc;tcp msrp://x.invalid:9/def;ws"
	if err := os.WriteFile(remote, []byte("v=0\r\nm=message 9 TCP/TLS/MSRP *\r\na=path:"+peer+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kind, proto string }{{"ws", "TCP/TLS/MSRP"}, {"tcp", "TCP/MSRP"}} {
		t.Run(tc.kind, func(t *testing.T) {
			out, errs, code := run(t, "", "sdp", "--relay", r.URL(tc.kind), "--user", "alice:pa", "--print-only", "--remote-sdp", remote)
			if code != 0 {
				t.Fatalf("sdp: exit %d\n%s", code, errs)
			}
			for _, want := range []string{"m=message ", " " + tc.proto + " *\r\n", "c=IN IP4 127.0.0.1\r\n", "a=path:msrp://127.0.0.1:",
				"a=accept-types:text/plain message/cpim *\r\n", "a=setup:active\r\n", "a=connection:new\r\n", "# remote path: " + peer} {
				if !strings.Contains(out, want) {
					t.Errorf("sdp output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
