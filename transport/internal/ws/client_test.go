package ws

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The example of RFC 6455 section 1.3.
func TestAcceptKey(t *testing.T) {
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey = %q", got)
	}
}

// serveHandshake reads a handshake request on nc and answers it with what
// respond makes of it, followed by after in the same write.
func serveHandshake(nc net.Conn, respond func(*http.Request) string, after []byte, got chan<- *http.Request) {
	r, err := http.ReadRequest(bufio.NewReader(nc))
	if err != nil {
		close(got)
		return
	}
	got <- r
	nc.Write(append([]byte(respond(r)), after...))
}

func switching(extra string) func(*http.Request) string {
	return func(r *http.Request) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"
	}
}

// The request carries what RFC 6455 section 4.1 asks, and bytes the
// server sent right behind its 101 come back for the Reader.
func TestHandshake(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	after := frame(0x81, []byte("first frame"), false)
	got := make(chan *http.Request, 1)
	go serveHandshake(srv, switching("Sec-WebSocket-Protocol: msrp\r\n"), after, got)
	u, _ := url.Parse("ws://relay.example:8855/msrp?x=1")
	rest, err := Handshake(cli, u, "msrp")
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != string(after) {
		t.Errorf("rest %q, want the frame behind the response", rest)
	}
	r := <-got
	switch h := r.Header; {
	case r.Method != http.MethodGet, r.RequestURI != "/msrp?x=1", r.Host != "relay.example:8855":
		t.Errorf("request %s %s Host %s", r.Method, r.RequestURI, r.Host)
	case !strings.EqualFold(h.Get("Upgrade"), "websocket"), !strings.EqualFold(h.Get("Connection"), "upgrade"),
		h.Get("Sec-WebSocket-Version") != "13", h.Get("Sec-WebSocket-Protocol") != "msrp",
		len(h.Get("Sec-WebSocket-Key")) != 24:
		t.Errorf("request headers %v", h)
	}
}

// A response that does not complete the handshake is refused.
func TestHandshakeRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		respond func(*http.Request) string
		want    error
	}{
		{"HTTP 403", func(*http.Request) string { return "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n" }, ErrHandshake},
		{"no Upgrade header", func(r *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\nSec-WebSocket-Protocol: msrp\r\n\r\n"
		}, ErrHandshake},
		{"wrong accept key", func(*http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: msrp\r\n\r\n"
		}, ErrHandshake},
		{"extension not offered", switching("Sec-WebSocket-Protocol: msrp\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"), ErrHandshake},
		{"no subprotocol", switching(""), ErrNoSubprotocol},
		{"another subprotocol", switching("Sec-WebSocket-Protocol: sip\r\n"), ErrNoSubprotocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli, srv := net.Pipe()
			defer cli.Close()
			defer srv.Close()
			go serveHandshake(srv, tc.respond, nil, make(chan *http.Request, 1))
			u, _ := url.Parse("ws://relay.example/")
			if _, err := Handshake(cli, u, "msrp"); !errors.Is(err, tc.want) {
				t.Errorf("Handshake = %v, want %v", err, tc.want)
			}
		})
	}
}
