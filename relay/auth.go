package relay

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
)

var (
	errAuthRealm    = errors.New("relay: Digest realm must be non-empty and free of control characters")
	errAuthNoCreds  = errors.New("relay: authenticator needs a CredentialStore")
	errAuthNoNonces = errors.New("relay: authenticator needs a nonce manager")
)

// opaqueRandomSize is the random material in the opaque token.
const opaqueRandomSize = 16

// digestMethods are the method names tried in H(A2) = MD5(method ":" uri).
// RFC 4976 §9.1 implies "AUTH", but some stacks use "MSRP" because Kamailio
// does (Crocodile has a digestMethod override for it); accepting both costs
// one extra hash and no security, as the method is not secret.
var digestMethods = [...]string{"AUTH", "MSRP"}

// authenticator checks Digest credentials of AUTH requests (RFC 4976 §9.1)
// and builds the challenge and Authentication-Info values. It is safe for
// concurrent use.
type authenticator struct {
	realm string
	// opaque is one random token per server. We always send one because
	// a widely used client stack fails when it is missing; clients must
	// echo it unchanged.
	opaque string
	creds  CredentialStore
	nonces *nonceManager
}

// newAuthenticator returns an authenticator for realm.
func newAuthenticator(realm string, creds CredentialStore, nonces *nonceManager) (*authenticator, error) {
	if realm == "" || strings.IndexFunc(realm, isControlRune) >= 0 {
		return nil, errAuthRealm
	}
	if creds == nil {
		return nil, errAuthNoCreds
	}
	if nonces == nil {
		return nil, errAuthNoNonces
	}
	b := make([]byte, opaqueRandomSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return &authenticator{
		realm:  realm,
		opaque: base64.RawURLEncoding.EncodeToString(b),
		creds:  creds,
		nonces: nonces,
	}, nil
}

// authResult is the outcome of verify. When ok is false the caller answers
// 401 with challenge(stale). Its String method leaves out the HA1, so the
// result may be logged whole.
type authResult struct {
	ok   bool
	user string // the claimed username, also when !ok ("" if none)
	// stale asks for stale=TRUE in the new challenge: the client proved it
	// knows the password but the nonce can no longer be used. RFC 4976
	// §6.3 does not count such 401s as failed attempts.
	stale bool
	// reason says why the request was refused, for logs. It never holds a
	// password, HA1 or response.
	reason string
	// method is the H(A2) method that matched ("AUTH" or "MSRP").
	method string
	// unavailable is why the credential store could not answer (a
	// database outage): the relay answers 500, not 401.
	unavailable error

	// Kept for authenticationInfo; never printed.
	ha1, nonce, uri, cnonce, nc, qop string
}

// String describes the result for logs.
func (r authResult) String() string {
	if r.ok {
		return fmt.Sprintf("user %q authenticated (H(A2) method %s)", r.user, r.method)
	}
	return fmt.Sprintf("user %q not authenticated: %s (stale=%t)", r.user, r.reason, r.stale)
}

// GoString keeps %#v from printing the HA1.
func (r authResult) GoString() string { return r.String() }

// challenge returns a WWW-Authenticate value in the default realm.
func (a *authenticator) challenge(stale bool) string { return a.challengeIn(a.realm, stale) }

// challengeIn returns a WWW-Authenticate value for realm with a fresh
// nonce, in the RFC 4976 §9.1 profile: qop quoted, algorithm MD5, no
// domain.
func (a *authenticator) challengeIn(realm string, stale bool) string {
	params := []digest.Param{
		{Key: "realm", Value: realm, Quoted: true},
		{Key: "nonce", Value: a.nonces.issue(), Quoted: true},
		{Key: "opaque", Value: a.opaque, Quoted: true},
		{Key: "qop", Value: "auth", Quoted: true},
		{Key: "algorithm", Value: "MD5"},
	}
	if stale {
		params = append(params, digest.Param{Key: "stale", Value: "TRUE"})
	}
	return "Digest " + digest.Format(params)
}

// verify checks the parameters of an Authorization header (as returned by
// digest.Parse) of an AUTH request. digestURIDefault is the rightmost To-Path
// URI of the request, which RFC 4976 §9.1 makes the digest-uri.
//
// If the client sent uri=, it must name the same URI: scheme and host:port
// are compared case-insensitively and any userinfo ("alice@") is ignored,
// as RFC 4975 §6.1 ignores it; the rest (session-id, ;transport) must match
// exactly. The response is then computed over the client's own uri text.
//
// The nonce count is recorded only once the response checked out, so a
// party without the password cannot burn counts of another client's nonce.
// verify checks in the default realm; verifyIn in realm.
func (a *authenticator) verify(authz map[string]string, digestURIDefault string) authResult {
	return a.verifyIn(authz, digestURIDefault, a.realm)
}

func (a *authenticator) verifyIn(authz map[string]string, digestURIDefault, realm string) authResult {
	res := authResult{user: authz["username"]}
	fail := func(reason string) authResult {
		res.reason = reason
		return res
	}
	if len(authz) == 0 {
		return fail("no credentials")
	}
	if res.user == "" {
		return fail("missing username")
	}
	if authz["realm"] != realm {
		return fail("wrong realm")
	}
	if alg, ok := authz["algorithm"]; ok && !strings.EqualFold(alg, "MD5") {
		return fail("unsupported algorithm") // MD5-sess is excluded by §9.1
	}
	qop := authz["qop"]
	if !strings.EqualFold(qop, "auth") {
		return fail("qop must be auth")
	}
	if authz["opaque"] != a.opaque {
		return fail("opaque missing or not ours")
	}
	cnonce := authz["cnonce"]
	if cnonce == "" || strings.IndexFunc(cnonce, isControlRune) >= 0 {
		return fail("missing or bad cnonce")
	}
	ncText := authz["nc"]
	nc, ok := parseNC(ncText)
	if !ok {
		return fail("missing or bad nonce count")
	}
	uri := digestURIDefault
	if u, present := authz["uri"]; present {
		if !sameDigestURI(u, digestURIDefault) {
			return fail("digest uri does not match To-Path")
		}
		uri = u
	}
	if uri == "" {
		return fail("no digest uri")
	}
	response := strings.ToLower(authz["response"])
	if !isHexLen(response, ha1Len) {
		return fail("missing or malformed response")
	}
	nonce := authz["nonce"]
	nonceOK, stale := a.nonces.check(nonce)
	if !nonceOK && !stale {
		return fail("nonce not issued by us")
	}
	ha1, known, err := a.lookup(res.user, realm)
	if err != nil {
		res.unavailable = err
		return fail("credentials unavailable")
	}
	if !known {
		return fail("unknown user")
	}
	for _, m := range digestMethods {
		want := digest.Response(ha1, nonce, ncText, cnonce, qop, m, uri)
		if subtle.ConstantTimeCompare([]byte(want), []byte(response)) == 1 {
			res.method = m
			break
		}
	}
	if res.method == "" {
		return fail("wrong password")
	}
	if stale {
		res.stale = true
		return fail("stale nonce")
	}
	switch a.nonces.useCount(nonce, nc) {
	case ncReplay:
		// The sender knows the password or replays a capture; either way
		// a fresh nonce (stale=TRUE) is the right answer, and it lets a
		// client that reuses nc=00000001 with a cached nonce recover.
		res.stale = true
		return fail("replayed nonce count")
	case ncForgotten:
		res.stale = true
		return fail("nonce count record evicted")
	case ncInvalid:
		return fail("nonce not issued by us")
	}
	res.ok = true
	res.ha1, res.nonce, res.uri = ha1, nonce, uri
	res.cnonce, res.nc, res.qop = cnonce, ncText, qop
	return res
}

// credentialTimeout bounds one lookup in a CredentialLookup store.
const credentialTimeout = 3 * time.Second

// lookup asks the store for the HA1 of user in realm; only a
// CredentialLookup can fail.
func (a *authenticator) lookup(user, realm string) (string, bool, error) {
	l, ok := a.creds.(CredentialLookup)
	if !ok {
		ha1, known := a.creds.HA1(user, realm)
		return ha1, known, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), credentialTimeout)
	defer cancel()
	return l.LookupHA1(ctx, user, realm)
}

// authenticationInfo returns the Authentication-Info value for the 200 to
// an AUTH that verify accepted (RFC 4976 §9.1: qop unquoted, rspauth,
// cnonce, nc). rspauth uses H(A2) = MD5(":" digest-uri) (RFC 2617 §3.2.3).
// It returns "" if res is not a success.
func (a *authenticator) authenticationInfo(res authResult) string {
	if !res.ok {
		return ""
	}
	rspauth := digest.Response(res.ha1, res.nonce, res.nc, res.cnonce, res.qop, "", res.uri)
	return digest.Format([]digest.Param{
		{Key: "qop", Value: "auth"},
		{Key: "rspauth", Value: rspauth, Quoted: true},
		{Key: "cnonce", Value: res.cnonce, Quoted: true},
		{Key: "nc", Value: res.nc},
	})
}

// parseNC parses an nc value: 8 hex digits normally; shorter is accepted
// because the response hashes the text exactly as sent.
func parseNC(s string) (uint64, bool) {
	if s == "" || len(s) > 8 || !isHexLen(s, len(s)) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 16, 32)
	return n, err == nil
}

// sameDigestURI compares a client's digest uri with the To-Path URI. See
// verify for the rules.
func sameDigestURI(a, b string) bool {
	return normalizeDigestURI(a) == normalizeDigestURI(b)
}

func normalizeDigestURI(u string) string {
	u = strings.TrimSpace(u)
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	scheme, rest := strings.ToLower(u[:i]), u[i+3:]
	end := strings.IndexAny(rest, "/;")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	return scheme + "://" + strings.ToLower(authority) + rest[end:]
}

func isControlRune(r rune) bool { return r < 0x80 && digest.IsControl(byte(r)) }
