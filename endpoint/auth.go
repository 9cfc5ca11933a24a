package endpoint

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/msrp"
)

// roundTrip sends an AUTH and returns its response.
type roundTrip func(*msrp.Message) (*msrp.Message, error)

// authResult is what a successful AUTH gives.
type authResult struct {
	usePath string
	expires time.Duration // 0 when the relay sent none
}

// maxAuthRounds bounds the exchange: challenge, credentials, a stale
// nonce, a 423 retry and one spare.
const maxAuthRounds = 5

// authenticate runs the AUTH exchange of RFC 4976 section 5.1 with
// Digest (section 9.1): AUTH, 401 with a challenge, AUTH with
// credentials, 200 with Use-Path, Expires and Authentication-Info. A 423
// is retried with the relay's Min-Expires or Max-Expires; a stale nonce
// with the new challenge. to is the To-Path (the relay's URI, or our
// session URI to refresh it); its rightmost URI is the Digest uri.
func (e *Endpoint) authenticate(rt roundTrip, to, from string) (authResult, error) {
	expires := e.cfg.Expires
	var creds *digest.Credentials
	var ch map[string]string
	nc := 0
	digestURI := lastField(to)
	for round := 0; round < maxAuthRounds; round++ {
		req := &msrp.Message{
			TransactionID: msrp.NewTransactionID(),
			Method:        msrp.MethodAUTH,
			Headers: []msrp.Header{
				{Name: msrp.HeaderToPath, Value: to},
				{Name: msrp.HeaderFromPath, Value: from},
			},
			Flag: msrp.FlagComplete,
		}
		if creds != nil {
			req.Headers = append(req.Headers, msrp.Header{Name: msrp.HeaderAuthorization, Value: creds.Header})
		}
		if expires > 0 {
			req.Headers = append(req.Headers, msrp.Header{Name: msrp.HeaderExpires, Value: strconv.Itoa(int(expires / time.Second))})
		}
		resp, err := rt(req)
		if err != nil {
			return authResult{}, fmt.Errorf("endpoint: AUTH to %s: %w", to, err)
		}
		switch resp.StatusCode {
		case 200:
			return e.authOK(resp, creds)
		case 401:
			ch = parseDigestParams(resp.WWWAuthenticate())
			if creds != nil && !strings.EqualFold(ch["stale"], "true") {
				return authResult{}, fmt.Errorf("%w: relay refused the credentials of user %q (401)", ErrAuth, e.cfg.User)
			}
			nc = 1
			if creds, err = answer(ch, e.cfg.User, e.cfg.Password, e.cfg.DigestMethod, digestURI, nc); err != nil {
				return authResult{}, fmt.Errorf("endpoint: AUTH to %s: %w", to, err)
			}
		case 423:
			b, err := expiresBound(resp)
			if err != nil || b == expires {
				return authResult{}, fmt.Errorf("endpoint: AUTH to %s: 423 without a usable bound: %v", to, err)
			}
			e.log.Infof("relay %s wants Expires %v (asked %v); retrying", e.cfg.Relay, b, expires)
			expires = b
			if creds != nil {
				nc++ // the nonce is still good; a new count keeps it fresh
				if creds, err = answer(ch, e.cfg.User, e.cfg.Password, e.cfg.DigestMethod, digestURI, nc); err != nil {
					return authResult{}, fmt.Errorf("endpoint: AUTH to %s: %w", to, err)
				}
			}
		default:
			return authResult{}, fmt.Errorf("endpoint: AUTH to %s: %w", to,
				&StatusError{Code: resp.StatusCode, Comment: resp.Comment})
		}
	}
	return authResult{}, fmt.Errorf("%w: AUTH to %s: no success after %d rounds", ErrAuth, to, maxAuthRounds)
}

// authOK checks the 200: rspauth when the relay sent Authentication-Info
// (RFC 4976 requires it; Kamailio 5.6 sends none), a Use-Path, Expires.
func (e *Endpoint) authOK(resp *msrp.Message, creds *digest.Credentials) (authResult, error) {
	if creds != nil {
		if ai := resp.AuthenticationInfo(); ai != "" {
			if !creds.CheckRspauth(parseDigestParams(ai)) {
				return authResult{}, fmt.Errorf("%w: relay's rspauth is wrong (the relay does not know our password)", ErrAuth)
			}
		} else {
			e.log.Debugf("relay %s: 200 to AUTH without Authentication-Info; rspauth not checked", e.cfg.Relay)
		}
	}
	up := resp.Header(msrp.HeaderUsePath)
	if _, err := msrp.ParsePath(up); err != nil {
		return authResult{}, fmt.Errorf("%w: %q: %v", errNoUsePath, up, err)
	}
	res := authResult{usePath: up}
	if secs, ok, err := resp.Expires(); ok && err == nil {
		res.expires = time.Duration(secs) * time.Second
	}
	return res, nil
}

// expiresBound reads Min-Expires or Max-Expires of a 423.
func expiresBound(resp *msrp.Message) (time.Duration, error) {
	if v, ok, err := resp.MinExpires(); ok {
		return time.Duration(v) * time.Second, err
	}
	if v, ok, err := resp.MaxExpires(); ok {
		return time.Duration(v) * time.Second, err
	}
	return 0, fmt.Errorf("no Min-Expires or Max-Expires")
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
