package endpoint

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/msrpd/msrpd/msrp"
)

// relayTarget describes the relay URL: the transport and the URI an AUTH
// is addressed to.
type relayTarget struct {
	name   string // for logs: the relay as configured (and its SRV target)
	dial   string // what transport.Dial takes
	ws     bool   // WebSocket (ws or wss)
	secure bool   // TLS (wss, msrps, tls)
	uri    string // AUTH To-Path / Digest uri
}

// CheckRelay reports whether Dial can take relay as Config.Relay: a URL
// of a scheme it knows, with a host (and a port where the scheme has no
// default). The error says what is wrong.
func CheckRelay(relay string) error {
	_, err := parseRelay(relay, "")
	return err
}

// parseRelay derives the AUTH URI from the relay URL: msrp[s]://host:port;ws
// for WebSocket URLs (RFC 7977 section 8), msrp[s]://host:port;tcp else.
func parseRelay(relay, override string) (relayTarget, error) {
	t := relayTarget{dial: relay, name: relay}
	scheme, _, ok := strings.Cut(relay, "://")
	if !ok {
		return t, fmt.Errorf("%w: relay %q has no scheme", ErrBadConfig, relay)
	}
	scheme = strings.ToLower(scheme)
	var host string
	var port int
	switch scheme {
	case "ws", "wss", "tcp", "tls":
		u, err := url.Parse(relay)
		if err != nil || u.Hostname() == "" {
			return t, fmt.Errorf("%w: relay %q: bad URL", ErrBadConfig, relay)
		}
		t.ws = scheme == "ws" || scheme == "wss"
		t.secure = scheme == "wss" || scheme == "tls"
		host = u.Hostname()
		port, _ = strconv.Atoi(u.Port())
		if port == 0 {
			switch scheme {
			case "ws":
				port = 80
			case "wss":
				port = 443
			default:
				return t, fmt.Errorf("%w: relay %q needs a port", ErrBadConfig, relay)
			}
		}
	case "msrp", "msrps":
		u, err := msrp.ParseURI(relay)
		if err != nil {
			return t, fmt.Errorf("%w: relay: %v", ErrBadConfig, err)
		}
		if !strings.EqualFold(u.Transport, "tcp") {
			return t, fmt.Errorf("%w: relay %q: msrp and msrps URLs name a TCP or TLS relay (;tcp); for WebSocket give ws:// or wss://", ErrBadConfig, relay)
		}
		t.secure = scheme == "msrps"
		host, port = u.Host, u.Port
		if port == 0 {
			port = 2855
		}
	default:
		return t, fmt.Errorf("%w: relay %q: unknown scheme", ErrBadConfig, relay)
	}
	if override != "" {
		if _, err := msrp.ParseURI(override); err != nil {
			return t, fmt.Errorf("%w: RelayURI: %v", ErrBadConfig, err)
		}
		t.uri = override
		return t, nil
	}
	u := msrp.URI{Scheme: "msrp", Host: host, Port: port, Transport: "tcp"}
	if t.secure {
		u.Scheme = "msrps"
	}
	if t.ws {
		u.Transport = "ws"
	}
	t.uri = u.String()
	return t, nil
}

// ownURI makes our URI for one connection: on WebSocket a random
// "*.invalid" host (RFC 7977 Appendix A), since a browser-like client
// cannot know its address; on TCP our real address. Either way with the
// local port and a random session id.
func (t relayTarget) ownURI(local net.Addr) string {
	u := msrp.URI{Scheme: "msrp", Port: 2855, SessionID: msrp.NewSessionID(), Transport: "tcp"}
	if t.secure {
		u.Scheme = "msrps"
	}
	if ta, ok := local.(*net.TCPAddr); ok {
		u.Port = ta.Port
		u.Host = ta.IP.String()
	}
	if t.ws || u.Host == "" {
		u.Host = msrp.NewTransactionID() + ".invalid"
	}
	if t.ws {
		u.Transport = "ws"
	}
	return u.String()
}
