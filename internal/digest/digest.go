// Package digest is the HTTP Digest authentication (RFC 2617, MD5, qop
// auth) that MSRP relays use (RFC 4976 section 9.1) and SIP servers ask
// for: the hashes, a strict parser of header values, their formatting,
// and a client's answer to a challenge. It is computed here only, for the
// relay, the endpoint, the credential stores, the tests and the bench
// tools.
package digest

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// HA1 returns hex(MD5(user ":" realm ":" password)), what a credential
// store keeps and an htdigest file stores.
func HA1(user, realm, password string) string {
	return md5Hex(user + ":" + realm + ":" + password)
}

// Response returns the response of RFC 2617 section 3.2.2.1 for ha1:
// KD(HA1, nonce:nc:cnonce:qop:H(A2)) with qop, KD(HA1, nonce:H(A2)) when
// qop is "" (RFC 2069, which SIP servers may still ask for), where
// H(A2) = MD5(method ":" uri). The rspauth of Authentication-Info is the
// Response with method "" (RFC 2617 section 3.2.3).
func Response(ha1, nonce, nc, cnonce, qop, method, uri string) string {
	ha2 := md5Hex(method + ":" + uri)
	if qop == "" {
		return md5Hex(ha1 + ":" + nonce + ":" + ha2)
	}
	return md5Hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ErrChallenge is a challenge that cannot be answered: no nonce, or an
// algorithm other than MD5.
var ErrChallenge = errors.New("digest: no usable challenge")

// Credentials answer one challenge: the Authorization value, and what it
// took, which checks the server's rspauth.
type Credentials struct {
	Header string // the Authorization header's value, "Digest ..."
	HA1    string
	Nonce  string
	NC     string // the nonce count as sent: 8 hex digits
	CNonce string
	URI    string
}

// Answer answers challenge, a parsed WWW-Authenticate value, for user and
// password, with qop=auth, the nonce count nc and the client nonce cnonce
// always sent, and the challenge's opaque echoed (the profile of RFC 4976
// section 9.1). method and uri make H(A2): "AUTH" (or what a relay
// expects) and the rightmost To-Path URI for MSRP.
func Answer(challenge map[string]string, user, password, method, uri string, nc int, cnonce string) (Credentials, error) {
	if challenge["nonce"] == "" {
		return Credentials{}, fmt.Errorf("%w: no nonce", ErrChallenge)
	}
	if alg := challenge["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return Credentials{}, fmt.Errorf("%w: algorithm %q", ErrChallenge, alg)
	}
	c := Credentials{
		HA1:    HA1(user, challenge["realm"], password),
		Nonce:  challenge["nonce"],
		NC:     fmt.Sprintf("%08x", nc),
		CNonce: cnonce,
		URI:    uri,
	}
	params := []Param{
		{Key: "username", Value: user, Quoted: true},
		{Key: "realm", Value: challenge["realm"], Quoted: true},
		{Key: "nonce", Value: c.Nonce, Quoted: true},
		{Key: "uri", Value: uri, Quoted: true},
		{Key: "response", Value: Response(c.HA1, c.Nonce, c.NC, cnonce, "auth", method, uri), Quoted: true},
		{Key: "qop", Value: "auth"},
		{Key: "nc", Value: c.NC},
		{Key: "cnonce", Value: cnonce, Quoted: true},
		{Key: "algorithm", Value: "MD5"},
	}
	if op, ok := challenge["opaque"]; ok {
		params = append(params, Param{Key: "opaque", Value: op, Quoted: true})
	}
	c.Header = "Digest " + Format(params)
	return c, nil
}

// CheckRspauth reports whether info, a parsed Authentication-Info value,
// carries the rspauth that proves the server knows the password.
func (c Credentials) CheckRspauth(info map[string]string) bool {
	return strings.EqualFold(info["rspauth"], Response(c.HA1, c.Nonce, c.NC, c.CNonce, "auth", "", c.URI))
}
