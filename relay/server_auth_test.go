package relay

import (
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/msrp"
)

func TestAuthChallengeThenUsePath(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	for _, kind := range []string{"tcp", "ws"} {
		t.Run(kind, func(t *testing.T) {
			target, via := r.tcp, r.uri
			if kind == "ws" {
				target, via = r.ws, r.wsURI
			}
			c := dialClient(t, target, via)
			c.send(c.authRequest("", "", nil, 0))
			ch := c.next(5 * time.Second)
			if ch.StatusCode != 401 {
				t.Fatalf("got %d, want 401", ch.StatusCode)
			}
			p, err := digest.Parse(ch.WWWAuthenticate())
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"realm", "nonce", "opaque", "qop"} {
				if p[k] == "" {
					t.Errorf("challenge lacks %s: %q", k, ch.WWWAuthenticate())
				}
			}
			if !strings.Contains(ch.WWWAuthenticate(), `qop="auth"`) {
				t.Errorf("qop must be quoted in WWW-Authenticate: %q", ch.WWWAuthenticate())
			}
			c.send(c.authRequest(relayUser, relayPass, p, 1))
			ok := c.next(5 * time.Second)
			if ok.StatusCode != 200 {
				t.Fatalf("got %d, want 200", ok.StatusCode)
			}
			use, err := ok.UsePath()
			if err != nil || len(use) != 1 {
				t.Fatalf("Use-Path %q: %v", ok.Header("Use-Path"), err)
			}
			if use[0].Transport != "tcp" || use[0].Port == 0 || len(use[0].SessionID) < 20 {
				t.Errorf("Use-Path %q: want ;tcp, explicit port and a long session id", ok.Header("Use-Path"))
			}
			if secs, has, _ := ok.Expires(); !has || secs <= 0 {
				t.Errorf("200 lacks Expires")
			}
			info, err := digest.Parse("Digest " + ok.AuthenticationInfo())
			if err != nil || info["rspauth"] == "" || info["cnonce"] == "" || info["nc"] == "" || info["qop"] != "auth" {
				t.Errorf("Authentication-Info %q: %v", ok.AuthenticationInfo(), err)
			}
		})
	}
}

func TestAuthWrongPasswordThreeTimesCloses(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	c := dialClient(t, r.ws, r.wsURI)
	c.send(c.authRequest("", "", nil, 0))
	ch, _ := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
	for i := 1; i <= 3; i++ {
		c.send(c.authRequest(relayUser, "wrong", ch, i))
		resp := c.next(5 * time.Second)
		if resp.StatusCode != 401 {
			t.Fatalf("try %d: %d, want 401", i, resp.StatusCode)
		}
		ch, _ = digest.Parse(resp.WWWAuthenticate())
	}
	c.expectClosed(5 * time.Second)
	if log := r.logBuf.String(); strings.Contains(log, "wrong\"") || strings.Contains(log, relayPass) {
		t.Errorf("log shows a password:\n%s", log)
	}
	if !strings.Contains(r.logBuf.String(), "too many failed AUTH") {
		t.Errorf("log does not give the reason for the close:\n%s", r.logBuf.String())
	}
}

func TestAuthStaleNonce(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.NonceLifetime = 300 * time.Millisecond })
	c := dialClient(t, r.tcp, r.uri)
	c.send(c.authRequest("", "", nil, 0))
	ch, _ := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
	time.Sleep(400 * time.Millisecond)
	c.send(c.authRequest(relayUser, relayPass, ch, 1))
	resp := c.next(5 * time.Second)
	if resp.StatusCode != 401 || !strings.Contains(strings.ToLower(resp.WWWAuthenticate()), "stale=true") {
		t.Fatalf("got %d %q, want 401 with stale=TRUE", resp.StatusCode, resp.WWWAuthenticate())
	}
	ch, _ = digest.Parse(resp.WWWAuthenticate())
	c.send(c.authRequest(relayUser, relayPass, ch, 1))
	if resp := c.next(5 * time.Second); resp.StatusCode != 200 {
		t.Fatalf("with the fresh nonce: %d, want 200", resp.StatusCode)
	}
}

func TestAuthExpiresBounds(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	tests := []struct {
		name    string
		expires string
		code    int
		header  string
		value   string
	}{
		{"too short", "10", 423, "Min-Expires", "60"},
		{"too long", "999999", 423, "Max-Expires", "7200"},
		{"in range", "600", 200, "Expires", "600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialClient(t, r.tcp, r.uri)
			c.send(c.authRequest("", "", nil, 0))
			ch, _ := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
			c.send(c.authRequest(relayUser, relayPass, ch, 1, "Expires", tc.expires))
			resp := c.next(5 * time.Second)
			if resp.StatusCode != tc.code || resp.Header(tc.header) != tc.value {
				t.Fatalf("got %d %s=%q, want %d %s=%q", resp.StatusCode, tc.header, resp.Header(tc.header), tc.code, tc.header, tc.value)
			}
		})
	}
}

func TestUsePathIDsDifferAndAreLong(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		c := dialClient(t, r.ws, r.wsURI)
		c.auth(relayUser, relayPass)
		u, err := msrp.ParseURI(c.use)
		if err != nil {
			t.Fatal(err)
		}
		// 80 bits need at least 20 hex digits.
		if len(u.SessionID) < 20 || seen[u.SessionID] {
			t.Fatalf("session id %q: short or repeated", u.SessionID)
		}
		seen[u.SessionID] = true
	}
}

func TestReAuthRefreshesSession(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	c := dialClient(t, r.tcp, r.uri)
	c.auth(relayUser, relayPass)
	first := c.use
	// AUTH to the session URI itself refreshes it.
	c.via = first
	c.auth(relayUser, relayPass)
	if c.use != first {
		t.Fatalf("refresh gave %q, want the same %q", c.use, first)
	}
}

func TestAuthFailuresPerSourceAcrossConnections(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.MaxAuthFailuresPerSource = 4 })
	fail := func(c *client, n int) {
		c.send(c.authRequest("", "", nil, 0))
		ch, _ := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
		for i := 1; i <= n; i++ {
			c.send(c.authRequest(relayUser, "wrong", ch, i))
			if resp := c.next(5 * time.Second); resp.StatusCode != 401 {
				t.Fatalf("got %d, want 401", resp.StatusCode)
			}
		}
	}
	// Two failures on each of two connections: four from 127.0.0.1.
	fail(dialClient(t, r.tcp, r.uri), 2)
	fail(dialClient(t, r.ws, r.wsURI), 2)
	// Now even the right password is refused from this address.
	c := dialClient(t, r.tcp, r.uri)
	c.send(c.authRequest("", "", nil, 0))
	c.expectClosed(5 * time.Second)
	if !strings.Contains(r.logBuf.String(), "too many failed AUTHs from 127.0.0.1") {
		t.Errorf("no log line names the source:\n%s", r.logBuf.String())
	}
}
