package ws

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The client side of the opening handshake (RFC 6455 section 4.1) is done
// here rather than by gorilla's Dialer: the Dialer reads the server's
// response through a buffer of its own, which may hold the first frames
// too, and they would be lost to our frame Reader. Here the bytes read
// past the response are handed back, for Reader.Preload.

// HandshakeBuffer bounds the read of the server's handshake response;
// what Dial returns beyond the response fits a Reader's read-ahead.
const HandshakeBuffer = 4 << 10

var (
	// ErrHandshake is a server's response that does not complete the
	// handshake.
	ErrHandshake = errors.New("websocket: handshake failed")
	// ErrNoSubprotocol is a server that did not choose the subprotocol
	// offered.
	ErrNoSubprotocol = errors.New("websocket: server did not choose the subprotocol offered")
	// ErrBadURL is a URL Dial cannot use.
	ErrBadURL = errors.New("websocket: bad URL")
)

// Dial connects to a ws:// or wss:// URL and runs the client handshake,
// offering subprotocol. tlsConfig configures wss (nil: the system roots);
// its ServerName, when empty, is the URL's host. Dial returns the
// connection (a *tls.Conn for wss) and the bytes the server sent after
// its response, which a Reader must see first. ctx bounds the whole
// handshake.
func Dial(ctx context.Context, rawURL string, tlsConfig *tls.Config, subprotocol string) (net.Conn, []byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if u.User != nil {
		return nil, nil, fmt.Errorf("%w: user info in a WebSocket URL", ErrBadURL)
	}
	secure := strings.EqualFold(u.Scheme, "wss")
	port := u.Port()
	switch {
	case port != "":
	case secure:
		port = "443"
	default:
		port = "80"
	}
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, nil, err
	}
	// End a handshake that ctx ends, whatever it is waiting for.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	conn := nc
	if secure {
		cfg := &tls.Config{}
		if tlsConfig != nil {
			cfg = tlsConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		// The handshake speaks HTTP/1.1 (RFC 6455 section 4.1), whatever
		// a caller's config offers for ALPN.
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		err = tc.HandshakeContext(ctx)
		conn = tc
	}
	var rest []byte
	if err == nil {
		rest, err = Handshake(conn, u, subprotocol)
	}
	if !stop() && err == nil {
		err = ctx.Err() // too late: the deadline above may be set
	}
	if err != nil {
		_ = nc.Close()
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err) // the deadline error is ctx's doing
		}
		return nil, nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return conn, rest, nil
}

// Handshake sends the opening handshake for u on nc, offering
// subprotocol, and checks the server's answer (RFC 6455 section 4.1). It
// returns the bytes read past the answer.
func Handshake(nc net.Conn, u *url.URL, subprotocol string) ([]byte, error) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:]) // never fails (crypto/rand)
	key := base64.StdEncoding.EncodeToString(nonce[:])
	// url.Parse refuses control characters, so u cannot split the request.
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + subprotocol + "\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return nil, fmt.Errorf("sending the WebSocket handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, HandshakeBuffer)
	// A 101 response has no body: ReadResponse stops at its header.
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return nil, fmt.Errorf("reading the WebSocket handshake response: %w", err)
	}
	if err := checkResponse(resp, key, subprotocol); err != nil {
		return nil, err
	}
	rest, _ := br.Peek(br.Buffered())
	return rest, nil
}

// checkResponse checks the server's handshake response to our key.
func checkResponse(resp *http.Response, key, subprotocol string) error {
	h := resp.Header
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return fmt.Errorf("%w: HTTP %s", ErrHandshake, resp.Status)
	case !hasToken(h, "Upgrade", "websocket"), !hasToken(h, "Connection", "upgrade"):
		return fmt.Errorf("%w: no Upgrade: websocket and Connection: Upgrade in the response", ErrHandshake)
	case h.Get("Sec-WebSocket-Accept") != AcceptKey(key):
		return fmt.Errorf("%w: wrong Sec-WebSocket-Accept", ErrHandshake)
	case h.Get("Sec-WebSocket-Extensions") != "":
		// We offered none; frames of an extension would not parse.
		return fmt.Errorf("%w: extension %q not offered", ErrHandshake, h.Get("Sec-WebSocket-Extensions"))
	case h.Get("Sec-WebSocket-Protocol") != subprotocol:
		return fmt.Errorf("%w: offered %q, server chose %q", ErrNoSubprotocol, subprotocol, h.Get("Sec-WebSocket-Protocol"))
	}
	return nil
}

// AcceptKey is the Sec-WebSocket-Accept that answers key (RFC 6455
// section 4.2.2).
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// hasToken reports whether the comma-separated header name lists token,
// compared case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
