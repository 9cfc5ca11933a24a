package endpoint

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/msrpd/msrpd/msrp"
)

// parseDigestParams parses "Digest k=v, k="v", ..." (or, for
// Authentication-Info, the parameter list alone) into a map with lower-case
// keys. It is lenient: what it cannot read it skips.
func parseDigestParams(s string) map[string]string {
	s = strings.TrimSpace(s)
	if len(s) >= 7 && strings.EqualFold(s[:7], "digest ") {
		s = s[7:]
	}
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t,")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			s = s[min(i+1, len(s)):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		out[key] = val
	}
	return out
}

// digestCreds is one computed Authorization value with what is needed to
// check the relay's rspauth.
type digestCreds struct {
	header string
	ha1    string
	nonce  string
	nc     string
	cnonce string
	uri    string
}

// newDigestCreds answers a challenge (RFC 4976 section 9.1: qop=auth,
// cnonce and nc always, opaque echoed, uri = the rightmost To-Path URI).
func newDigestCreds(ch map[string]string, user, pass, method, uri string, nc int) (digestCreds, error) {
	if ch["nonce"] == "" {
		return digestCreds{}, errNoChallenge
	}
	if alg := ch["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return digestCreds{}, fmt.Errorf("%w: algorithm %q", errNoChallenge, alg)
	}
	d := digestCreds{
		ha1:    md5Hex(user + ":" + ch["realm"] + ":" + pass),
		nonce:  ch["nonce"],
		nc:     fmt.Sprintf("%08x", nc),
		cnonce: msrp.NewTransactionID(),
		uri:    uri,
	}
	resp := digestResponse(d.ha1, d.nonce, d.nc, d.cnonce, method, uri)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", qop=auth, nc=%s, cnonce="%s", algorithm=MD5`,
		quote(user), quote(ch["realm"]), quote(d.nonce), quote(uri), resp, d.nc, d.cnonce)
	if op, ok := ch["opaque"]; ok {
		fmt.Fprintf(&b, `, opaque="%s"`, quote(op))
	}
	d.header = b.String()
	return d, nil
}

// checkRspauth verifies the rspauth of an Authentication-Info value, which
// proves the relay knows our password (H(A2) = MD5(":" uri)).
func (d digestCreds) checkRspauth(info map[string]string) bool {
	return strings.EqualFold(info["rspauth"], digestResponse(d.ha1, d.nonce, d.nc, d.cnonce, "", d.uri))
}

func digestResponse(ha1, nonce, nc, cnonce, method, uri string) string {
	ha2 := md5Hex(method + ":" + uri)
	return md5Hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
