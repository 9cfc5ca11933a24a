package digest

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"testing"
)

// The example of RFC 2617 section 3.5.
func TestResponseKnownAnswer(t *testing.T) {
	ha1 := HA1("Mufasa", "testrealm@host.com", "Circle Of Life")
	got := Response(ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth", "GET", "/dir/index.html")
	if want := "6629fae49393a05397450978507c4ef1"; got != want {
		t.Errorf("Response = %s, want %s", got, want)
	}
}

// Without qop the response leaves nc, cnonce and qop out (RFC 2069).
func TestResponseWithoutQop(t *testing.T) {
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := HA1("alice", "sip.test", "s3cret")
	want := h(ha1 + ":n1:" + h("INVITE:sip:bob@sip.test"))
	if got := Response(ha1, "n1", "00000001", "c1", "", "INVITE", "sip:bob@sip.test"); got != want {
		t.Errorf("Response without qop = %s, want %s", got, want)
	}
}

// Answer's header parses back with Parse, carries the response a server
// computes from the stored HA1, and echoes the opaque; the server's
// rspauth checks out, a wrong one does not.
func TestAnswer(t *testing.T) {
	ch := map[string]string{"realm": `test "realm"`, "nonce": "abc123", "opaque": "op", "qop": "auth", "algorithm": "MD5"}
	uri := "msrp://relay.test:2855;tcp"
	c, err := Answer(ch, "alice", "pw", "AUTH", uri, 2, "cn0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(c.Header)
	if err != nil {
		t.Fatalf("Parse(%q): %v", c.Header, err)
	}
	ha1 := HA1("alice", `test "realm"`, "pw")
	want := map[string]string{
		"username": "alice", "realm": `test "realm"`, "nonce": "abc123", "uri": uri,
		"response": Response(ha1, "abc123", "00000002", "cn0", "auth", "AUTH", uri),
		"qop":      "auth", "nc": "00000002", "cnonce": "cn0", "algorithm": "MD5", "opaque": "op",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q (header %s)", k, p[k], v, c.Header)
		}
	}
	if len(p) != len(want) {
		t.Errorf("header has %d parameters, want %d: %s", len(p), len(want), c.Header)
	}
	rspauth := Response(ha1, "abc123", "00000002", "cn0", "auth", "", uri)
	if !c.CheckRspauth(map[string]string{"rspauth": rspauth}) {
		t.Error("the right rspauth does not check out")
	}
	if c.CheckRspauth(map[string]string{"rspauth": Response(ha1, "abc123", "00000002", "cn0", "auth", "AUTH", uri)}) {
		t.Error("an rspauth with the request's method checks out")
	}
}

func TestAnswerRefusesChallenge(t *testing.T) {
	for _, ch := range []map[string]string{
		{"realm": "r"},
		{"realm": "r", "nonce": "n", "algorithm": "SHA-256"},
	} {
		if _, err := Answer(ch, "u", "p", "AUTH", "msrp://r;tcp", 1, "c"); !errors.Is(err, ErrChallenge) {
			t.Errorf("Answer(%v) = %v, want ErrChallenge", ch, err)
		}
	}
}
