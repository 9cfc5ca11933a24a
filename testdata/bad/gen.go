//go:build ignore

// gen writes the malformed-MSRP corpus of testdata/bad, one case per file,
// byte-exact with real CRLFs. Run it with `go run gen.go` in this
// directory; edit this file, not the outputs. README.md says what the
// relay must answer to each case; relay/reliability_badinput_test.go
// holds the same expectations as a table.
//
// Placeholders, replaced by the test before sending:
//
//	{{RELAY}}  the relay's base URI (AUTH To-Path)
//	{{SELF}}   the sending client's own URI
//	{{USE}}    the sending client's Use-Path (it has authenticated)
//	{{PEER}}   the receiving client's Use-Path and URI: "{{USE}} {{PEER}}"
//	           is a valid To-Path from the sender to the receiver
//	{{PEERUSE}} the receiving client's Use-Path alone
package main

import (
	"fmt"
	"os"
	"strings"
)

const tid = "bad0tid1"

func req(method string, headers []string, body *string, flag string) string {
	var b strings.Builder
	b.WriteString("MSRP " + tid + " " + method + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != nil {
		b.WriteString("\r\n" + *body + "\r\n")
	}
	b.WriteString("-------" + tid + flag + "\r\n")
	return b.String()
}

func str(s string) *string { return &s }

func main() {
	to := "To-Path: {{USE}} {{PEER}}"
	from := "From-Path: {{SELF}}"
	send := func(extra ...string) []string {
		return append([]string{to, from, "Message-ID: badmsg1"}, extra...)
	}
	uris := func(n int, f string) string {
		var u []string
		for i := 0; i < n; i++ {
			u = append(u, fmt.Sprintf(f, i))
		}
		return strings.Join(u, " ")
	}
	body12k := strings.Repeat("0123456789abcdef", 12000/16)
	body70k := strings.Repeat("0123456789abcdef", 70000/16)
	cases := map[string]string{
		"start-http.msrp":                    "GET / HTTP/1.1\r\nHost: relay.example.com\r\n\r\n",
		"start-bad-tid.msrp":                 "MSRP -bad SEND\r\n" + to + "\r\n" + from + "\r\n-------" + "-bad$\r\n",
		"start-no-method.msrp":               "MSRP " + tid + "\r\n" + to + "\r\n" + from + "\r\n-------" + tid + "$\r\n",
		"start-tid-too-long.msrp":            "MSRP " + strings.Repeat("t", 70) + " SEND\r\n" + to + "\r\n" + from + "\r\n-------" + strings.Repeat("t", 70) + "$\r\n",
		"start-status-099.msrp":              "MSRP " + tid + " 099 Weird\r\nTo-Path: {{RELAY}}\r\n" + from + "\r\n-------" + tid + "$\r\n",
		"start-garbage-binary.msrp":          "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\xff\xfe\r\n\r\n",
		"method-lowercase.msrp":              req("send", []string{"To-Path: {{RELAY}}", from}, nil, "$"),
		"method-unknown-to-relay.msrp":       req("FROB", []string{"To-Path: {{RELAY}}", from}, nil, "$"),
		"missing-to-path.msrp":               req("SEND", []string{from, "Message-ID: badmsg1"}, str("hi"), "$"),
		"missing-from-path.msrp":             req("SEND", []string{to, "Message-ID: badmsg1"}, str("hi"), "$"),
		"duplicate-to-path.msrp":             req("SEND", []string{to, to, from, "Message-ID: badmsg1", "Content-Type: text/plain"}, str("hi"), "$"),
		"duplicate-from-path.msrp":           req("SEND", []string{to, from, from, "Message-ID: badmsg1", "Content-Type: text/plain"}, str("hi"), "$"),
		"empty-to-path.msrp":                 req("SEND", []string{"To-Path: ", from, "Message-ID: badmsg1"}, nil, "$"),
		"header-over-limit.msrp":             req("SEND", send("X-Pad: "+strings.Repeat("a", 17000)), nil, "$"),
		"header-control-char.msrp":           req("SEND", send("X-Bad: a\x01b", "Content-Type: text/plain"), str("hi"), "$"),
		"header-no-colon.msrp":               req("SEND", send("NoColonHere", "Content-Type: text/plain"), str("hi"), "$"),
		"bodiless-content-type.msrp":         req("SEND", send("Content-Type: text/plain"), nil, "$"),
		"byte-range-syntax.msrp":             req("SEND", send("Byte-Range: 1-x/2", "Content-Type: text/plain"), str("hi"), "$"),
		"byte-range-end-before-start.msrp":   req("SEND", send("Byte-Range: 5-1/5", "Content-Type: text/plain"), str("hi"), "$"),
		"byte-range-huge-total.msrp":         req("SEND", send("Byte-Range: 1-2/99999999999999999999", "Content-Type: text/plain"), str("hi"), "$"),
		"byte-range-total-2p53.msrp":         req("SEND", send("Byte-Range: 1-2/9007199254740991", "Content-Type: text/plain"), str("hi"), "+"),
		"byte-range-start-beyond-total.msrp": req("SEND", send("Byte-Range: 9-10/5", "Content-Type: text/plain"), str("hi"), "$"),
		"end-line-wrong-tid.msrp":            "MSRP " + tid + " SEND\r\n" + strings.Join(send("Content-Type: text/plain"), "\r\n") + "\r\n\r\nhello\r\n-------othertid$\r\n",
		"end-line-bad-flag.msrp":             "MSRP " + tid + " SEND\r\n" + strings.Join(send("Content-Type: text/plain"), "\r\n") + "\r\n\r\nhello\r\n-------" + tid + "!\r\n",
		"body-no-end-line.msrp":              "MSRP " + tid + " SEND\r\n" + strings.Join(send("Content-Type: text/plain"), "\r\n") + "\r\n\r\nhello and nothing after",
		"non-send-body-over-10240.msrp":      req("FROB", []string{to, from, "Content-Type: text/plain"}, &body12k, "$"),
		"auth-body-over-10240.msrp":          req("AUTH", []string{"To-Path: {{RELAY}}", from, "Content-Type: text/plain"}, &body12k, "$"),
		"to-path-300-uris.msrp":              req("SEND", []string{"To-Path: {{USE}} {{PEERUSE}} " + uris(300, "msrp://hop%d.invalid:2855/s;tcp") + " {{SELF}}", from, "Message-ID: badmsg1"}, nil, "$"),
		"to-path-300-relay-uris.msrp":        req("SEND", []string{"To-Path: " + strings.TrimSpace(strings.Repeat("{{RELAY}} ", 300)), from, "Message-ID: badmsg1"}, nil, "$"),
		"to-path-2000-uris.msrp":             req("SEND", []string{"To-Path: {{USE}} " + uris(2000, "msrp://hop%d.invalid:2855/s;tcp"), from, "Message-ID: badmsg1"}, nil, "$"),
		"uri-invalid-to-path.msrp":           req("SEND", []string{"To-Path: msrp://", from, "Message-ID: badmsg1"}, nil, "$"),
		"uri-invalid-from-path.msrp":         req("SEND", []string{to, "From-Path: msrp://bad host:x/;;", "Message-ID: badmsg1"}, nil, "$"),
		"uri-not-msrp-scheme.msrp":           req("SEND", []string{"To-Path: http://{{USE}}", from, "Message-ID: badmsg1"}, nil, "$"),
		"forged-from-path-extra-hop.msrp":    req("SEND", []string{to, "From-Path: msrp://evil.invalid:1/x;tcp {{SELF}}", "Message-ID: badmsg1"}, nil, "$"),
		"session-of-another-connection.msrp": req("SEND", []string{"To-Path: {{PEERUSE}} {{USE}} {{SELF}}", from, "Message-ID: badmsg1"}, nil, "$"),
		"send-body-over-maxchunk.msrp":       req("SEND", send("Byte-Range: 1-70000/70000", "Content-Type: text/plain"), &body70k, "$"),
		"response-unknown-tid.msrp":          "MSRP " + tid + " 200 OK\r\nTo-Path: {{RELAY}}\r\n" + from + "\r\n-------" + tid + "$\r\n",
	}
	for name, data := range cases {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
