//go:build ignore

// gen writes the MSRP wire samples of this directory. The samples are
// checked in; run it again only to change them:
//
//	cd testdata/wire && go run gen.go
//
// Text samples are written here with LF line ends, which crlf turns into
// the CRLFs of the wire; bytes that must stay exactly as given (bodies with
// bare LF, NULs, garbage) are concatenated raw. See README.md for naming.
package main

import (
	"log"
	"os"
	"strings"
)

// crlf turns every LF of s into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func main() {
	samples := map[string]string{
		// RFC 4975 section 7.1.1: a simple SEND and its 200.
		"valid-rfc4975-send.msrp": crlf(`MSRP a786hjs2 SEND
To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
Message-ID: 87652491
Byte-Range: 1-25/25
Content-Type: text/plain

Hey Bob, are you there?
-------a786hjs2$
`),
		"valid-rfc4975-200.msrp": crlf(`MSRP a786hjs2 200 OK
To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
-------a786hjs2$
`),
		// RFC 4975 section 7.1: one message in two chunks, "+" then "$".
		"valid-rfc4975-chunk1.msrp": crlf(`MSRP d93kswow SEND
To-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp
Message-ID: 12339sdqwer
Byte-Range: 1-*/*
Content-Type: text/plain

abcdefghij
-------d93kswow+
`),
		"valid-rfc4975-chunk2.msrp": crlf(`MSRP op2nc9a SEND
To-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp
Message-ID: 12339sdqwer
Byte-Range: 11-20/20
Content-Type: text/plain

klmnopqrst
-------op2nc9a$
`),
		// RFC 4975 sections 7.1.2 and 7.1.3: success and failure REPORTs.
		"valid-rfc4975-report-success.msrp": crlf(`MSRP dkei38sd REPORT
To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
From-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp
Message-ID: 12339sdqwer
Byte-Range: 1-106/106
Status: 000 200 OK
-------dkei38sd$
`),
		"valid-rfc4975-report-failure.msrp": crlf(`MSRP dkei38ze REPORT
To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
From-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp
Message-ID: 12339sdqwer
Byte-Range: 1-20/20
Status: 000 408 Request Timeout
-------dkei38ze$
`),
		"valid-rfc4975-send-reports.msrp": crlf(`MSRP dkei38sd SEND
To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
From-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp
Message-ID: 12339sdqwer
Success-Report: yes
Failure-Report: partial
Byte-Range: 1-16/16
Content-Type: text/html

<p>Hello!</p>
-------dkei38sd$
`),
		"valid-response-413.msrp": crlf(`MSRP d93kswow 413 Message Too Large
To-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp
From-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp
-------d93kswow$
`),
		"valid-response-no-comment.msrp": crlf(`MSRP xk2d9w 481
To-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp
From-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp
-------xk2d9w$
`),
		// RFC 4976 sections 7.1-7.3: the AUTH exchange with a relay.
		"valid-rfc4976-auth.msrp": crlf(`MSRP 49fh AUTH
To-Path: msrps://alice@intra.example.com;tcp
From-Path: msrps://alice.example.com:9892/98cjs;tcp
-------49fh$
`),
		"valid-rfc4976-401.msrp": crlf(`MSRP 49fh 401 Unauthorized
To-Path: msrps://alice.example.com:9892/98cjs;tcp
From-Path: msrps://alice@intra.example.com;tcp
WWW-Authenticate: Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"
-------49fh$
`),
		"valid-rfc4976-auth-credentials.msrp": crlf(`MSRP 49fi AUTH
To-Path: msrps://alice@intra.example.com;tcp
From-Path: msrps://alice.example.com:9892/98cjs;tcp
Authorization: Digest username="Alice", realm="intra.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", uri="msrps://alice@intra.example.com;tcp"
Expires: 900
-------49fi$
`),
		"valid-rfc4976-200-auth.msrp": crlf(`MSRP 49fi 200 OK
To-Path: msrps://alice.example.com:9892/98cjs;tcp
From-Path: msrps://alice@intra.example.com;tcp
Use-Path: msrps://intra.example.com:9000/jui787s2f;tcp
Expires: 900
Authentication-Info: rspauth="7f4b2ab2bc0c6bd0d5bd1e2d5e5ba4a9", cnonce="0a4f113b", nc=00000001, qop=auth
-------49fi$
`),
		"valid-rfc4976-423.msrp": crlf(`MSRP 49fj 423 Interval Out-of-Bounds
To-Path: msrps://alice.example.com:9892/98cjs;tcp
From-Path: msrps://alice@intra.example.com;tcp
Min-Expires: 600
Max-Expires: 3600
-------49fj$
`),
		// RFC 7977 section 8: a WebSocket client behind a relay, with a
		// random *.invalid host (and, as in the RFC, no port) in From-Path.
		"valid-rfc7977-auth.msrp": crlf(`MSRP 49fh AUTH
To-Path: msrps://alice@a.example.com:443;ws
From-Path: msrps://df7jal23ls0d.invalid/98cjs;ws
-------49fh$
`),
		"valid-rfc7977-200-auth.msrp": crlf(`MSRP 49fh 200 OK
To-Path: msrps://df7jal23ls0d.invalid/98cjs;ws
From-Path: msrps://alice@a.example.com:443;ws
Use-Path: msrps://a.example.com:2855/jui787s2f;tcp
Expires: 900
-------49fh$
`),
		"valid-rfc7977-send.msrp": crlf(`MSRP 6aef SEND
To-Path: msrps://a.example.com:2855/jui787s2f;tcp msrps://bob.example.com:8888/9di4ea;tcp
From-Path: msrps://df7jal23ls0d.invalid/98cjs;ws
Message-ID: 87652
Byte-Range: 1-10/10
Content-Type: text/plain

Hi, Bob!!!
-------6aef$
`),
		// RFC 4975 section 7.1: a bodiless SEND, in the canonical form the
		// Writer produces byte for byte.
		"valid-bodiless-send.msrp": crlf(`MSRP 4rt5jh9k SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: 2s93i93idj
Byte-Range: 1-0/0
-------4rt5jh9k$
`),
		// AG msrplib (Blink, SylkServer) keepalive, every 60 s,
		// byte for byte as python3-msrplib's MSRPSession._keepalive
		// writes it: make_send_request() (To-Path, From-Path, then
		// Byte-Range and Message-ID in that order, hex ids of
		// getrandbits(64), a session id of getrandbits(80)) plus a
		// non-standard Keep-Alive header; no Content-Type, so the
		// end-line follows the last header.
		"valid-bodiless-keepalive-msrplib.msrp": crlf(`MSRP 5e3b9a0c71d2f48e SEND
To-Path: msrp://relay.example.com:2855/jui787s2f;tcp msrp://bob.example.com:8888/9di4ea;tcp
From-Path: msrp://10.0.0.7:50123/83f1c0a94b2de7f6a5c1;tcp
Byte-Range: 1-0/0
Message-ID: a04c6e19f3b8d752
Keep-Alive: yes
-------5e3b9a0c71d2f48e$
`),
		// An empty body: Content-Type, blank line, nothing, CRLF, end-line.
		"valid-empty-body.msrp": crlf(`MSRP emp7yb0d SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: 2s93i93idk
Byte-Range: 1-0/0
Content-Type: text/plain


-------emp7yb0d$
`),
		// A chunk whose sender aborted the message ("#").
		"valid-aborted-chunk.msrp": crlf(`MSRP ab0rt3d1 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: 2s93i93idm
Byte-Range: 2049-*/8000
Content-Type: application/octet-stream

partial data, then the sender gave up
-------ab0rt3d1#
`),
		// Binary body: NULs, bare CR, bare LF, CRLF, high bytes.
		"valid-binary-body.msrp": crlf(`MSRP b1nary00 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: bin1
Byte-Range: 1-26/26
Content-Type: application/octet-stream

`) + "\x00\x01\r\x00\n\xff\xfe\r\n\r\n-------\x80\x7f\r\r\n\n\x00\x00" + crlf(`
-------b1nary00$
`),
		// The body holds the end-line of another transaction: it is body.
		"valid-body-other-end-line.msrp": crlf(`MSRP 0wn3rtid SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: nested1
Content-Type: message/cpim

MSRP other123 SEND
To-Path: msrp://x.example.com:1/a;tcp
From-Path: msrp://y.example.com:2/b;tcp
Content-Type: text/plain

inner
-------other123$
-------0wn3rti$
-------0wn3rtidX
-------0wn3rtid
-------0wn3rtid$
`),
		// Lines beginning "\r\n-------" that are not end-lines.
		"valid-body-dash-prefixes.msrp": crlf(`MSRP d4shes99 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: dash1
Content-Type: text/plain

-------
--------
-------d
-------d4shes9
-------d4shes99 $
------d4shes99$
end
-------d4shes99$
`),
		// An unknown method is kept as it arrived (RFC 4975 section 7.3):
		// NICKNAME, which RFC 7701 section 7.2 defines for chat rooms.
		"valid-unknown-method.msrp": crlf(`MSRP unkn0wn1 NICKNAME
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Use-Nickname: "Alice the Great"
-------unkn0wn1$
`),
		// Extension headers are kept verbatim, in order.
		"valid-extension-headers.msrp": crlf(`MSRP ext3nsi0 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: ext1
X-Custom: some value	with tab
Priority: urgent
x-lower-case: yes
Byte-Range: 1-5/5
Content-Disposition: inline
Content-Type: text/plain; charset=utf-8

hello
-------ext3nsi0$
`),
		// IPv6 literals, userinfo, parameters.
		"valid-ipv6-uris.msrp": crlf(`MSRP 1pv6tr4n SEND
To-Path: msrp://[2001:db8::1]:2855/s3ss;tcp msrps://bob@[::ffff:192.0.2.1]:9000/x+y=z;tcp;foo=bar
From-Path: msrp://[fe80::abcd]:7777/a/b;tcp
Message-ID: v6
Byte-Range: 1-3/3
Content-Type: text/plain

hi!
-------1pv6tr4n$
`),
		// The msrp-node-lib heartbeat, every 5 s: an ordinary SEND with
		// a body, byte for byte as its ChunkSender and
		// Message.OutgoingRequest.encode write it (Message-ID of NTP
		// seconds and eight base-36 characters, Success-Report and
		// Failure-Report, Content-Disposition on a first chunk, then
		// Byte-Range, which encode adds last, then Content-Type; an
		// eight-character base-36 transaction id).
		"valid-heartbeat-msrp-node-lib.msrp": crlf(`MSRP k7x2m9qa SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: 3972813905.4fj29xkq
Success-Report: yes
Failure-Report: yes
Content-Disposition: inline
Byte-Range: 1-9/9
Content-Type: text/x-msrp-heartbeat

HEARTBEAT
-------k7x2m9qa$
`),

		// Invalid samples; the expected error of each is in wire_test.go.
		"invalid-start-http.msrp": crlf(`HTTP/1.1 200 OK
Content-Length: 0

`),
		"invalid-start-no-method.msrp": crlf(`MSRP a786hjs2
To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
-------a786hjs2$
`),
		"invalid-start-bad-tid.msrp": crlf(`MSRP _786hjs2 SEND
To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
-------_786hjs2$
`),
		"invalid-start-bad-status.msrp": crlf(`MSRP a786hjs2 099 Too Low
To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
-------a786hjs2$
`),
		"invalid-start-bad-method.msrp": crlf(`MSRP a786hjs2 SEND2
To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
-------a786hjs2$
`),
		"invalid-start-tid-too-long.msrp": crlf(`MSRP ` + strings.Repeat("t", 65) + ` SEND
To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
-------` + strings.Repeat("t", 65) + `$
`),
		"invalid-start-control-in-comment.msrp": "MSRP a786hjs2 200 O\x00K\r\n" + crlf(`To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
-------a786hjs2$
`),
		"invalid-missing-to-path.msrp": crlf(`MSRP m1ss1ng0 SEND
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: miss1
Content-Type: text/plain

hello
-------m1ss1ng0$
`),
		"invalid-duplicate-from-path.msrp": crlf(`MSRP dup1ic4t SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
From-Path: msrp://mallory.example.com:7777/iau39soe2843z;tcp
Message-ID: dup1
-------dup1ic4t$
`),
		"invalid-header-too-large.msrp": crlf(`MSRP b1gh34d0 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
X-Padding: ` + strings.Repeat("p", 17<<10) + `
Content-Type: text/plain

hello
-------b1gh34d0$
`),
		"invalid-byte-range-end-before-start.msrp": crlf(`MSRP br4ng3e1 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: br1
Byte-Range: 5-3/10
Content-Type: text/plain

hello
-------br4ng3e1$
`),
		"invalid-byte-range-huge-total.msrp": crlf(`MSRP br4ng3e2 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: br2
Byte-Range: 1-*/99999999999999999999999
Content-Type: text/plain

hello
-------br4ng3e2$
`),
		"invalid-byte-range-syntax.msrp": crlf(`MSRP br4ng3e3 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: br3
Byte-Range: 1-5
-------br4ng3e3$
`),
		"invalid-byte-range-start-beyond-total.msrp": crlf(`MSRP br4ng3e4 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: br4
Byte-Range: 12-*/10
Content-Type: text/plain

hello
-------br4ng3e4$
`),
		"invalid-garbage.msrp": "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x91 binary TLS hello \x00\xff\r\n\x00\x00",
		"invalid-body-no-end-line.msrp": crlf(`MSRP n0end000 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID: ne1
Content-Type: text/plain

the stream ends before the end-line
-------n0end00`),
		"invalid-header-no-colon.msrp": crlf(`MSRP n0c0l0n0 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Message-ID no colon here
-------n0c0l0n0$
`),
		"invalid-header-control-char.msrp": crlf(`MSRP ctl0ctl0 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
`) + "X-Bad: a\x00b\rc\r\n" + crlf(`-------ctl0ctl0$
`),
		"invalid-bodiless-content-type.msrp": crlf(`MSRP b0dyl3ss SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
Content-Type: text/plain
-------b0dyl3ss$
`),
		"invalid-header-block-no-end.msrp": crlf(`MSRP h3adend0 SEND
To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp
`),
	}
	for name, data := range samples {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
