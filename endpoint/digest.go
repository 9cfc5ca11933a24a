package endpoint

import (
	"fmt"
	"strings"

	"github.com/msrpd/msrpd/internal/digest"
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

// answer answers the challenge ch (RFC 4976 section 9.1: qop=auth,
// cnonce and nc always, opaque echoed, uri = the rightmost To-Path URI).
func answer(ch map[string]string, user, pass, method, uri string, nc int) (*digest.Credentials, error) {
	c, err := digest.Answer(ch, user, pass, method, uri, nc, msrp.NewTransactionID())
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", errNoChallenge, err)
	}
	return &c, nil
}
