package relay

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
)

const (
	testRealm    = "example.com"
	testUser     = "alice"
	testPassword = "s3cr3t-pa55"
	testURI      = "msrps://relay.example.com:2855;tcp"
	testCnonce   = "0a4f113b"
)

// clientResponse computes a Digest response the way a client does
// (package digest checks its hashes against RFC 2617's example).
func clientResponse(user, realm, password, nonce, nc, cnonce, qop, method, uri string) string {
	return digest.Response(digest.HA1(user, realm, password), nonce, nc, cnonce, qop, method, uri)
}

type authFixture struct {
	clock *fakeClock
	auth  *authenticator
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	clock := newFakeClock()
	creds := NewMemoryCredentials()
	creds.Add(testUser, testRealm, testPassword)
	a, err := newAuthenticator(testRealm, creds, newTestNonces(t, clock))
	if err != nil {
		t.Fatalf("newAuthenticator: %v", err)
	}
	return &authFixture{clock: clock, auth: a}
}

// answer parses a challenge and returns the Authorization parameters a
// correct client sends for it.
func (f *authFixture) answer(t *testing.T, stale bool, method string) map[string]string {
	t.Helper()
	ch, err := digest.Parse(f.auth.challenge(stale))
	if err != nil {
		t.Fatalf("digest.Parse(challenge): %v", err)
	}
	return map[string]string{
		"username":  testUser,
		"realm":     ch["realm"],
		"nonce":     ch["nonce"],
		"uri":       testURI,
		"qop":       "auth",
		"nc":        "00000001",
		"cnonce":    testCnonce,
		"opaque":    ch["opaque"],
		"algorithm": "MD5",
		"response": clientResponse(testUser, ch["realm"], testPassword, ch["nonce"],
			"00000001", testCnonce, "auth", method, testURI),
	}
}

// resign recomputes the response after a test changed parameters.
func resign(authz map[string]string, password, method, uri string) {
	authz["response"] = clientResponse(authz["username"], authz["realm"], password,
		authz["nonce"], authz["nc"], authz["cnonce"], authz["qop"], method, uri)
}

// flipFirst changes the first character of s to another base64url one.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestVerifyKnownAnswer(t *testing.T) {
	f := newAuthFixture(t)
	authz := f.answer(t, false, "AUTH")
	res := f.auth.verify(authz, testURI)
	if !res.ok || res.user != testUser || res.method != "AUTH" {
		t.Fatalf("verify = %v, want ok for %q with AUTH", res, testUser)
	}

	// rspauth = MD5(HA1:nonce:nc:cnonce:qop:MD5(":" uri)).
	rspauth := clientResponse(testUser, testRealm, testPassword, authz["nonce"], "00000001", testCnonce, "auth", "", testURI)
	want := `qop=auth, rspauth="` + rspauth + `", cnonce="` + testCnonce + `", nc=00000001`
	if got := f.auth.authenticationInfo(res); got != want {
		t.Errorf("authenticationInfo = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name       string
		method     string                    // H(A2) method the client uses
		edit       func(m map[string]string) // change the parameters
		editURI    string                    // uri the client hashes, if not testURI
		resign     bool                      // recompute response after edit
		toPath     string                    // rightmost To-Path, if not testURI
		wantOK     bool
		wantStale  bool
		wantReason string
	}{
		{name: "AUTH method", method: "AUTH", wantOK: true},
		{name: "MSRP method", method: "MSRP", wantOK: true},
		{name: "missing uri uses To-Path", method: "AUTH", edit: func(m map[string]string) { delete(m, "uri") }, wantOK: true},
		{
			name:    "uri with userinfo and other case",
			method:  "AUTH",
			edit:    func(m map[string]string) { m["uri"] = "MSRPS://alice@Relay.Example.com:2855;tcp" },
			editURI: "MSRPS://alice@Relay.Example.com:2855;tcp", resign: true, wantOK: true,
		},
		{
			name:    "To-Path with userinfo (RFC 7977 §8)",
			method:  "AUTH",
			edit:    func(m map[string]string) { m["uri"] = "msrps://alice@a.example.com:443;ws" },
			editURI: "msrps://alice@a.example.com:443;ws", resign: true,
			toPath: "msrps://alice@a.example.com:443;ws", wantOK: true,
		},
		{name: "algorithm absent", method: "AUTH", edit: func(m map[string]string) { delete(m, "algorithm") }, wantOK: true},
		{name: "short nc", method: "AUTH", edit: func(m map[string]string) { m["nc"] = "1" }, resign: true, wantOK: true},
		{name: "upper-case response hex", method: "AUTH", edit: func(m map[string]string) { m["response"] = strings.ToUpper(m["response"]) }, wantOK: true},

		{name: "no credentials", edit: func(m map[string]string) { clear(m) }, wantReason: "no credentials"},
		{name: "missing username", method: "AUTH", edit: func(m map[string]string) { delete(m, "username") }, wantReason: "missing username"},
		{name: "wrong realm", method: "AUTH", edit: func(m map[string]string) { m["realm"] = "example.org" }, resign: true, wantReason: "wrong realm"},
		{name: "unknown user", method: "AUTH", edit: func(m map[string]string) { m["username"] = "mallory" }, resign: true, wantReason: "unknown user"},
		{name: "wrong method", method: "INVITE", wantReason: "wrong password"},
		{name: "MD5-sess", method: "AUTH", edit: func(m map[string]string) { m["algorithm"] = "MD5-sess" }, wantReason: "unsupported algorithm"},
		{name: "auth-int", method: "AUTH", edit: func(m map[string]string) { m["qop"] = "auth-int" }, resign: true, wantReason: "qop"},
		{name: "qop missing", method: "AUTH", edit: func(m map[string]string) { delete(m, "qop") }, wantReason: "qop"},
		{name: "opaque missing", method: "AUTH", edit: func(m map[string]string) { delete(m, "opaque") }, wantReason: "opaque"},
		{name: "opaque wrong", method: "AUTH", edit: func(m map[string]string) { m["opaque"] = "x" }, wantReason: "opaque"},
		{name: "cnonce missing", method: "AUTH", edit: func(m map[string]string) { delete(m, "cnonce") }, wantReason: "cnonce"},
		{name: "nc missing", method: "AUTH", edit: func(m map[string]string) { delete(m, "nc") }, wantReason: "nonce count"},
		{name: "nc not hex", method: "AUTH", edit: func(m map[string]string) { m["nc"] = "0000000g" }, resign: true, wantReason: "nonce count"},
		{name: "nc too long", method: "AUTH", edit: func(m map[string]string) { m["nc"] = "000000001" }, resign: true, wantReason: "nonce count"},
		{name: "nc zero", method: "AUTH", edit: func(m map[string]string) { m["nc"] = "00000000" }, resign: true, wantStale: true, wantReason: "replay"},
		{
			name:    "uri for another relay",
			method:  "AUTH",
			edit:    func(m map[string]string) { m["uri"] = "msrps://evil.example.com:2855;tcp" },
			editURI: "msrps://evil.example.com:2855;tcp", resign: true, wantReason: "uri",
		},
		{name: "no uri anywhere", method: "AUTH", edit: func(m map[string]string) { delete(m, "uri") }, toPath: "-", wantReason: "no digest uri"},
		{name: "response missing", method: "AUTH", edit: func(m map[string]string) { delete(m, "response") }, wantReason: "response"},
		{name: "tampered nonce", method: "AUTH", edit: func(m map[string]string) { m["nonce"] = flipFirst(m["nonce"]) }, resign: true, wantReason: "nonce not issued"},
		{name: "foreign nonce", method: "AUTH", edit: func(m map[string]string) { m["nonce"] = "abc" }, resign: true, wantReason: "nonce not issued"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newAuthFixture(t)
			authz := f.answer(t, false, tc.method)
			if tc.edit != nil {
				tc.edit(authz)
			}
			if tc.resign {
				uri := testURI
				if tc.editURI != "" {
					uri = tc.editURI
				}
				resign(authz, testPassword, tc.method, uri)
			}
			toPath := testURI
			switch tc.toPath {
			case "":
			case "-":
				toPath = ""
			default:
				toPath = tc.toPath
			}
			res := f.auth.verify(authz, toPath)
			if res.ok != tc.wantOK || res.stale != tc.wantStale || !strings.Contains(res.reason, tc.wantReason) {
				t.Fatalf("verify = %+v, want ok=%v stale=%v reason containing %q",
					res, tc.wantOK, tc.wantStale, tc.wantReason)
			}
			if res.ok && res.method != strings.ToUpper(tc.method) {
				t.Errorf("method = %q, want %q", res.method, tc.method)
			}
		})
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	f := newAuthFixture(t)
	authz := f.answer(t, false, "AUTH")
	resign(authz, "guess", "AUTH", testURI)
	res := f.auth.verify(authz, testURI)
	if res.ok || res.stale || res.reason != "wrong password" {
		t.Errorf("verify(wrong password) = %v, want not ok, not stale", res)
	}
}

// TestVerifyHeaderForms runs real Authorization header texts through
// parseDigest and verify: qop and nc may be quoted or not.
func TestVerifyHeaderForms(t *testing.T) {
	tests := []struct {
		name    string
		qop, nc string // as written in the header
	}{
		{"unquoted qop and nc", `auth`, `00000001`},
		{"quoted qop", `"auth"`, `00000001`},
		{"quoted nc", `auth`, `"00000001"`},
		{"both quoted", `"auth"`, `"00000001"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newAuthFixture(t)
			ch, err := digest.Parse(f.auth.challenge(false))
			if err != nil {
				t.Fatal(err)
			}
			resp := clientResponse(testUser, testRealm, testPassword, ch["nonce"], "00000001",
				testCnonce, "auth", "AUTH", testURI)
			header := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", `+
				`response="%s", qop=%s, nc=%s, cnonce="%s", opaque="%s", algorithm=MD5`,
				testUser, testRealm, ch["nonce"], testURI, resp, tc.qop, tc.nc, testCnonce, ch["opaque"])
			authz, err := digest.Parse(header)
			if err != nil {
				t.Fatalf("digest.Parse(%q): %v", header, err)
			}
			if res := f.auth.verify(authz, testURI); !res.ok {
				t.Errorf("verify(%q) = %v, want ok", header, res)
			}
		})
	}
}

func TestVerifyStaleNonce(t *testing.T) {
	tests := []struct {
		name      string
		password  string
		wantStale bool
	}{
		// Stale only when the digest is right (RFC 2617 §3.2.1), so that
		// RFC 4976 §6.3 counts wrong passwords as failures.
		{"right password", testPassword, true},
		{"wrong password", "guess", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newAuthFixture(t)
			authz := f.answer(t, false, "AUTH")
			resign(authz, tc.password, "AUTH", testURI)
			f.clock.advance(time.Minute + time.Second)
			res := f.auth.verify(authz, testURI)
			if res.ok || res.stale != tc.wantStale {
				t.Errorf("verify(old nonce) = %v, want not ok, stale=%v", res, tc.wantStale)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	f := newAuthFixture(t)
	authz := f.answer(t, false, "AUTH")
	if res := f.auth.verify(authz, testURI); !res.ok {
		t.Fatalf("first verify = %v, want ok", res)
	}
	res := f.auth.verify(authz, testURI)
	if res.ok || !res.stale || !strings.Contains(res.reason, "replay") {
		t.Fatalf("replayed verify = %v, want not ok, stale, replay", res)
	}
	authz["nc"] = "00000002"
	resign(authz, testPassword, "AUTH", testURI)
	if res := f.auth.verify(authz, testURI); !res.ok {
		t.Errorf("verify with next nc = %v, want ok", res)
	}
}

func TestVerifyFailureDoesNotBurnCount(t *testing.T) {
	// A wrong response must not record its nc, or anyone could block a
	// client's nonce by sending a high nc first.
	f := newAuthFixture(t)
	authz := f.answer(t, false, "AUTH")
	bogus := maps.Clone(authz)
	bogus["nc"] = "ffffffff"
	resign(bogus, "guess", "AUTH", testURI)
	if res := f.auth.verify(bogus, testURI); res.ok {
		t.Fatalf("verify(bogus) = %v", res)
	}
	if res := f.auth.verify(authz, testURI); !res.ok {
		t.Errorf("verify after bogus attempt = %v, want ok", res)
	}
}

func TestChallenge(t *testing.T) {
	f := newAuthFixture(t)
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale=%v", stale), func(t *testing.T) {
			value := f.auth.challenge(stale)
			wantPrefix := `Digest realm="example.com", nonce="`
			if !strings.HasPrefix(value, wantPrefix) {
				t.Errorf("challenge = %q, want prefix %q", value, wantPrefix)
			}
			for _, part := range []string{`, qop="auth"`, `, algorithm=MD5`, `, opaque="`} {
				if !strings.Contains(value, part) {
					t.Errorf("challenge = %q, missing %q", value, part)
				}
			}
			if strings.Contains(value, "domain") {
				t.Errorf("challenge = %q has domain (RFC 4976 §9.1)", value)
			}
			if got := strings.HasSuffix(value, ", stale=TRUE"); got != stale {
				t.Errorf("challenge = %q, stale=TRUE present %v, want %v", value, got, stale)
			}
			p, err := digest.Parse(value)
			if err != nil {
				t.Fatalf("digest.Parse(challenge): %v", err)
			}
			if p["opaque"] == "" {
				t.Error("challenge has an empty opaque")
			}
			if ok, _ := f.auth.nonces.check(p["nonce"]); !ok {
				t.Error("challenge nonce does not check")
			}
		})
	}
	a, _ := digest.Parse(f.auth.challenge(false))
	b, _ := digest.Parse(f.auth.challenge(false))
	if a["nonce"] == b["nonce"] || a["opaque"] != b["opaque"] {
		t.Errorf("two challenges: nonces %q %q, opaques %q %q; want new nonce, same opaque",
			a["nonce"], b["nonce"], a["opaque"], b["opaque"])
	}
}

func TestAuthenticationInfo(t *testing.T) {
	f := newAuthFixture(t)
	authz := f.answer(t, false, "MSRP")
	delete(authz, "uri") // rspauth must then use the To-Path URI
	res := f.auth.verify(authz, testURI)
	if !res.ok {
		t.Fatalf("verify = %v", res)
	}
	info := f.auth.authenticationInfo(res)
	if !strings.HasPrefix(info, "qop=auth, ") {
		t.Errorf("authenticationInfo = %q, want unquoted qop first", info)
	}
	p, err := digest.Parse("Digest " + info)
	if err != nil {
		t.Fatalf("digest.Parse(%q): %v", info, err)
	}
	want := clientResponse(testUser, testRealm, testPassword, authz["nonce"], "00000001", testCnonce, "auth", "", testURI)
	if p["rspauth"] != want || p["cnonce"] != testCnonce || p["nc"] != "00000001" {
		t.Errorf("authenticationInfo = %q, want rspauth %s", info, want)
	}
	if got := f.auth.authenticationInfo(authResult{reason: "x"}); got != "" {
		t.Errorf("authenticationInfo(failure) = %q, want empty", got)
	}
}

func TestAuthResultHidesSecrets(t *testing.T) {
	f := newAuthFixture(t)
	ha1 := HA1(testUser, testRealm, testPassword)
	var results []authResult

	good := f.answer(t, false, "AUTH")
	results = append(results, f.auth.verify(good, testURI))
	results = append(results, f.auth.verify(good, testURI)) // replay
	wrong := f.answer(t, false, "AUTH")
	resign(wrong, testPassword+"x", "AUTH", testURI)
	results = append(results, f.auth.verify(wrong, testURI))
	realm := f.answer(t, false, "AUTH")
	realm["realm"] = testPassword // a hostile realm must not be echoed either
	results = append(results, f.auth.verify(realm, testURI))
	stale := f.answer(t, false, "AUTH")
	f.clock.advance(time.Hour)
	results = append(results, f.auth.verify(stale, testURI))

	for i, r := range results {
		for _, text := range []string{r.reason, r.String(), fmt.Sprintf("%v", r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r)} {
			if strings.Contains(text, testPassword) || strings.Contains(text, ha1) {
				t.Errorf("result %d: %q leaks the password or HA1", i, text)
			}
		}
	}
}

func TestNewAuthenticator(t *testing.T) {
	nonces := newTestNonces(t, newFakeClock())
	creds := NewMemoryCredentials()
	tests := []struct {
		name   string
		realm  string
		creds  CredentialStore
		nonces *nonceManager
		want   error
	}{
		{"ok", testRealm, creds, nonces, nil},
		{"empty realm", "", creds, nonces, errAuthRealm},
		{"control in realm", "a\r\nb", creds, nonces, errAuthRealm},
		{"no creds", testRealm, nil, nonces, errAuthNoCreds},
		{"no nonces", testRealm, creds, nil, errAuthNoNonces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := newAuthenticator(tc.realm, tc.creds, tc.nonces); !errors.Is(err, tc.want) {
				t.Errorf("newAuthenticator(%q) error = %v, want %v", tc.realm, err, tc.want)
			}
		})
	}
}

func TestSameDigestURI(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{testURI, testURI, true},
		{" " + testURI + " ", testURI, true},
		{"MSRPS://RELAY.example.com:2855;tcp", testURI, true},
		{"msrps://bob@relay.example.com:2855;tcp", testURI, true},
		{"msrps://relay.example.com:2856;tcp", testURI, false},
		{"msrps://relay.example.com:2855;ws", testURI, false},
		{"msrps://relay.example.com:2855/abc;tcp", "msrps://relay.example.com:2855/ABC;tcp", false},
		{"msrp://relay.example.com:2855;tcp", testURI, false},
		{"", testURI, false},
	}
	for _, tc := range tests {
		t.Run(tc.a, func(t *testing.T) {
			if got := sameDigestURI(tc.a, tc.b); got != tc.want {
				t.Errorf("sameDigestURI(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}
