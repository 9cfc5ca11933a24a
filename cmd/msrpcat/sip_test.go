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

// relayArgs are the MSRP flags for a side: none (no relay) or a relay
// URL with the user's credentials.
func relayArgs(url, user string) []string {
	if url == "" {
		return nil
	}
	return []string{"--relay", url, "--user", user}
}

// TestSIPCallAnswer: call reaches answer over SIP and delivers text over
// MSRP, with and without relays on either side: no relay, caller with a
// relay and answerer without (and the reverse), both on one relay (ws and
// tcp), and through two chained msrpd instances.
func TestSIPCallAnswer(t *testing.T) {
	r1, r2 := newTestRelay(t), newTestRelay(t)
	for _, tc := range []struct{ name, callRelay, answerRelay string }{
		{"direct", "", ""},
		{"caller-tcp-relay", r1.TCP, ""},
		{"answerer-ws-relay", "", r1.WS},
		{"both-one-relay-ws-tcp", r1.WS, r1.TCP},
		{"two-relays-ws-tcp", r1.WS, r2.TCP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans, uri := startAnswer(t, append([]string{"--count", "3"}, relayArgs(tc.answerRelay, "bob:pb")...)...)
			if _, errs, code := callText(t, uri, "hello there", relayArgs(tc.callRelay, "alice:pa")...); code != 0 {
				t.Fatalf("call: exit %d, stderr:\n%s", code, errs)
			}
			if got := ans.next(t, 10*time.Second); !strings.HasSuffix(got, ": hello there") {
				t.Errorf("answer printed %q, want the CPIM sender then \": hello there\"", got)
			}
			_, errs, code := call(t, "line one\nline two\n", uri, append(relayArgs(tc.callRelay, "alice:pa"), "--cpim", "off", "--report")...)
			if code != 0 {
				t.Fatalf("call with stdin: exit %d, stderr:\n%s", code, errs)
			}
			for _, want := range []string{"line one", "line two"} {
				if got := ans.next(t, 10*time.Second); got != want {
					t.Errorf("answer printed %q, want %q", got, want)
				}
			}
			if !strings.Contains(errs, "INVITE "+uri+" → ") || !strings.Contains(errs, "200 OK → ACK") {
				t.Errorf("call's status line missing from stderr:\n%s", errs)
			}
			if code := ans.wait(t, 10*time.Second); code != 0 {
				t.Errorf("answer exit %d after --count 3", code)
			}
			ans.waitStderr(t, `← BYE from \S+ → 200`, time.Second)
		})
	}
}

// TestSIPInteractive: text both ways, call --interactive with answer
// --interactive; the caller's stdin ending hangs up.
func TestSIPInteractive(t *testing.T) {
	r := newTestRelay(t)
	for _, tc := range []struct{ name, callRelay, answerRelay string }{
		{"direct", "", ""},
		{"answerer-relay", "", r.TCP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans, uri := startAnswer(t, append([]string{"--interactive"}, relayArgs(tc.answerRelay, "bob:pb")...)...)
			cl := start(t, append(append([]string{"call", "--interactive", "--sip-user", "alice", "--sip-timeout", "2s"}, relayArgs(tc.callRelay, "alice:pa")...), uri)...)
			cl.waitStderr(t, `→ ACK`, 10*time.Second)
			ans.waitStderr(t, `→ 200 → ACK`, 10*time.Second)
			if _, err := cl.stdin.Write([]byte("hi bob\n")); err != nil {
				t.Fatal(err)
			}
			if got := ans.next(t, 10*time.Second); got != "sip:alice@127.0.0.1: hi bob" {
				t.Errorf("answer printed %q", got)
			}
			if _, err := ans.stdin.Write([]byte("hi alice\n")); err != nil {
				t.Fatal(err)
			}
			if got := cl.next(t, 10*time.Second); got != "sip:bob@127.0.0.1: hi alice" {
				t.Errorf("call printed %q", got)
			}
			_ = cl.stdin.Close()
			if code := cl.wait(t, 10*time.Second); code != 0 {
				t.Errorf("call exit %d", code)
			}
			ans.waitStderr(t, `← BYE from sip:alice@\S+ → 200`, 5*time.Second)
		})
	}
}

// TestSIPReject: --reject answers 486 or 603; the caller prints the
// status and exits non-zero.
func TestSIPReject(t *testing.T) {
	for _, code := range []string{"486", "603"} {
		t.Run(code, func(t *testing.T) {
			ans, uri := startAnswer(t, "--reject", code)
			_, errs, exit := callText(t, uri, "hello")
			if exit == 0 || !strings.Contains(errs, code+" ") {
				t.Errorf("call: exit %d, stderr %q; want non-zero and %s", exit, errs, code)
			}
			ans.waitStderr(t, `← INVITE from \S+ → `+code, 5*time.Second)
		})
	}
}

// TestSIPCancelRinging: the ring time runs out, the caller sends CANCEL,
// the answerer stops ringing (487) and serves the next call.
func TestSIPCancelRinging(t *testing.T) {
	ans, uri := startAnswer(t, "--answer-delay", "30s", "--max-calls", "1")
	start := time.Now()
	_, errs, code := run(t, "", "call", "--ring-timeout", "300ms", "--sip-timeout", "2s", uri, "hello")
	if code == 0 || !strings.Contains(errs, "180 Ringing → CANCEL") || !strings.Contains(errs, "no answer within 300ms") {
		t.Errorf("call: exit %d, stderr:\n%s\nwant non-zero, 180 Ringing → CANCEL, no answer within 300ms", code, errs)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelled call took %v", d)
	}
	ans.waitStderr(t, `→ 180 → CANCEL → 487`, 5*time.Second)
	// The slot is free again: a second call is answered... after 30s, so
	// look at the ringing only.
	_, errs, _ = run(t, "", "call", "--ring-timeout", "300ms", "--sip-timeout", "2s", uri, "again")
	if strings.Contains(errs, "486") {
		t.Errorf("second call found the slot taken:\n%s", errs)
	}
}

// TestSIPMaxCalls: with --max-calls 1 and a call ringing, the next one
// gets 486 Busy Here.
func TestSIPMaxCalls(t *testing.T) {
	ans, uri := startAnswer(t, "--answer-delay", "30s", "--max-calls", "1")
	first := start(t, "call", "--ring-timeout", "20s", uri, "first")
	ans.waitStderr(t, `← INVITE from \S+ → 180`, 10*time.Second)
	_, errs, code := callText(t, uri, "second")
	if code == 0 || !strings.Contains(errs, "486 Busy Here") || !strings.Contains(errs, "--max-calls") {
		t.Errorf("second call: exit %d, stderr:\n%s\nwant 486 with a Warning naming --max-calls", code, errs)
	}
	first.signal(syscall.SIGTERM)
	first.wait(t, 10*time.Second)
}

// TestSIPFileTransfer: call --file offers a=file-selector; answer checks
// size and sha-1 and keeps the file under --out; through a relay too.
func TestSIPFileTransfer(t *testing.T) {
	r := newTestRelay(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "photo.bin")
	body := make([]byte, 3<<20+17)
	_, _ = rand.Read(body)
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, callRelay, answerRelay string }{
		{"direct", "", ""},
		{"relays", r.WS, r.TCP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "in")
			ans, uri := startAnswer(t, append([]string{"--count", "1", "--out", out}, relayArgs(tc.answerRelay, "bob:pb")...)...)
			if _, errs, code := callText(t, uri, "", append(relayArgs(tc.callRelay, "alice:pa"), "--file", src, "--chunk", "16384")...); code != 0 {
				t.Fatalf("call --file: exit %d, stderr:\n%s", code, errs)
			}
			got := ans.next(t, 20*time.Second)
			if !strings.Contains(got, "[file photo.bin, 3145745 bytes, sha-1 ok, saved as ") {
				t.Errorf("answer printed %q", got)
			}
			b, err := os.ReadFile(filepath.Join(out, "photo.bin"))
			if err != nil || !bytes.Equal(b, body) {
				t.Errorf("saved file: %d bytes, %v; want the %d sent", len(b), err, len(body))
			}
			ans.wait(t, 10*time.Second)
		})
	}
}

// TestSIPByeMidTransfer: a BYE from either side, or the answerer dying,
// ends a transfer with a clear message and a non-zero exit for the
// caller; the answerer keeps no partial file.
func TestSIPByeMidTransfer(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(src, make([]byte, 64<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("answerer-bye", func(t *testing.T) {
		out := t.TempDir()
		ans, uri := startAnswer(t, "--out", out)
		cl := start(t, "call", "--sip-timeout", "2s", "--timeout", "5s", "--file", src, "--chunk", "2048", uri)
		ans.waitStderr(t, `→ 200 → ACK`, 10*time.Second)
		time.Sleep(200 * time.Millisecond)
		ans.signal(syscall.SIGTERM) // answer hangs up every call on SIGTERM
		if code := cl.wait(t, 20*time.Second); code == 0 {
			t.Error("call exited 0 though the peer hung up mid-transfer")
		}
		cl.waitStderr(t, `not delivered: .*the call ended by the peer \(BYE\)`, time.Second)
		ans.waitStderr(t, `BYE to \S+ → 200`, 5*time.Second)
		noFilesLeft(t, out)
	})
	t.Run("caller-bye", func(t *testing.T) {
		out := t.TempDir()
		ans, uri := startAnswer(t, "--out", out)
		cl := start(t, "call", "--sip-timeout", "2s", "--timeout", "5s", "--file", src, "--chunk", "2048", uri)
		ans.waitStderr(t, `→ 200 → ACK`, 10*time.Second)
		time.Sleep(200 * time.Millisecond)
		cl.signal(syscall.SIGTERM)
		if code := cl.wait(t, 20*time.Second); code == 0 {
			t.Error("interrupted call exited 0")
		}
		cl.waitStderr(t, `BYE → 200`, time.Second)
		ans.waitStderr(t, `← BYE from \S+ → 200`, 5*time.Second)
		noFilesLeft(t, out)
	})
	t.Run("answerer-killed", func(t *testing.T) {
		ans, uri := startAnswer(t)
		cl := start(t, "call", "--sip-timeout", "1s", "--timeout", "2s", "--file", src, "--chunk", "2048", uri)
		ans.waitStderr(t, `→ 200 → ACK`, 10*time.Second)
		time.Sleep(200 * time.Millisecond)
		ans.signal(syscall.SIGKILL) // the kernel closes (resets) its connections
		if code := cl.wait(t, 20*time.Second); code == 0 {
			t.Error("call exited 0 though the peer died mid-transfer")
		}
		cl.waitStderr(t, `not delivered: `, time.Second)
	})
}

// noFilesLeft checks that dir is empty, or becomes so within a bound (the
// answerer drops a partial file when the call's MSRP session ends, which
// it logs the BYE just before).
func noFilesLeft(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		ents, _ := os.ReadDir(dir)
		if len(ents) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("answer kept %d files of an unfinished transfer", len(ents))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIPTrace: --log-level trace shows the SIP and the MSRP messages.
func TestSIPTrace(t *testing.T) {
	ans, uri := startAnswer(t, "--count", "1")
	_, errs, code := callText(t, uri, "traced", "--log-level", "trace")
	if code != 0 {
		t.Fatalf("call: exit %d", code)
	}
	for _, want := range []string{"SIP out:\nINVITE " + uri, "SIP in (", "SIP/2.0 200 OK", "MSRP out", "MSRP in", "SEND"} {
		if !strings.Contains(errs, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	ans.wait(t, 10*time.Second)
}
