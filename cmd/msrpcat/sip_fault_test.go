package main

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawSIP is a bare UDP SIP peer for failure tests: it sends what a test
// writes and reads what comes, with no stack to be lenient or strict.
type rawSIP struct {
	c    *net.UDPConn
	port int
}

func newRawSIP(t *testing.T) *rawSIP {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawSIP{c: c, port: c.LocalAddr().(*net.UDPAddr).Port}
}

func (r *rawSIP) send(t *testing.T, to string, msg string) {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.WriteToUDP([]byte(msg), a); err != nil {
		t.Fatal(err)
	}
}

// read returns the next message and its sender, or "" after d.
func (r *rawSIP) read(d time.Duration) (string, *net.UDPAddr) {
	buf := make([]byte, 65536)
	_ = r.c.SetReadDeadline(time.Now().Add(d))
	n, from, err := r.c.ReadFromUDP(buf)
	if err != nil {
		return "", nil
	}
	return string(buf[:n]), from
}

// final reads responses until a final one and returns all status lines
// and the final message.
func (r *rawSIP) final(t *testing.T, d time.Duration) ([]string, string) {
	t.Helper()
	var codes []string
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m, _ := r.read(time.Until(deadline))
		if m == "" {
			break
		}
		line, _, _ := strings.Cut(m, "\r\n")
		codes = append(codes, line)
		if strings.HasPrefix(line, "SIP/2.0 ") && len(line) > 9 && line[8] != '1' {
			return codes, m
		}
	}
	t.Fatalf("no final response within %v (got %v)", d, codes)
	return nil, ""
}

// invite builds an INVITE from r to uri with body as SDP.
func (r *rawSIP) invite(uri, callID, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE %s SIP/2.0\r\n", uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s\r\n", r.port, callID)
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: <sip:raw@127.0.0.1>;tag=rawtag1\r\n")
	fmt.Fprintf(&b, "To: <%s>\r\n", uri)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	b.WriteString("CSeq: 1 INVITE\r\n")
	hasContact := false
	for _, h := range extra {
		hasContact = hasContact || strings.HasPrefix(h, "Contact:")
		if h != "NoContact" {
			b.WriteString(h + "\r\n")
		}
	}
	if !hasContact && !contains(extra, "NoContact") {
		fmt.Fprintf(&b, "Contact: <sip:raw@127.0.0.1:%d>\r\n", r.port)
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// header returns the first value of a header of a SIP message.
func header(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func sipAddr(uri string) string {
	return hostPortOf(uri)
}

// msrpOffer is an SDP offer for a session at path with setup role.
func msrpOffer(path, setup string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=message 9 TCP/MSRP *\r\na=path:" + path + "\r\na=accept-types:text/plain\r\na=setup:" + setup + "\r\n"
}

// TestSIPMalformedInvite: bad INVITEs get the right status with a
// Warning that says why, garbage gets nothing, and nothing crashes: a
// normal call works afterwards.
func TestSIPMalformedInvite(t *testing.T) {
	ans, uri := startAnswer(t, "--count", "1")
	addr := sipAddr(uri)
	r := newRawSIP(t)
	for i, tc := range []struct {
		name, body string
		extra      []string
		code, warn string
	}{
		{"garbage SDP", "hello, I am not SDP", nil, "400", "malformed SDP"},
		{"audio only", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", nil, "488", "no m=message"},
		{"no path", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=message 9 TCP/MSRP *\r\na=accept-types:*\r\n", nil, "488", "no a=path"},
		{"no body", "", nil, "488", "no SDP offer"},
		{"no Contact", msrpOffer("msrp://127.0.0.1:9/x1;tcp", "active"), []string{"NoContact"}, "400", "Contact"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.send(t, addr, r.invite(uri, fmt.Sprintf("bad%d", i), tc.body, tc.extra...))
			codes, res := r.final(t, 5*time.Second)
			if !strings.HasPrefix(codes[len(codes)-1], "SIP/2.0 "+tc.code) || !strings.Contains(header(res, "Warning"), tc.warn) {
				t.Errorf("got %v, Warning %q; want %s with a Warning naming %q", codes, header(res, "Warning"), tc.code, tc.warn)
			}
			// ACK the failure so the transaction ends.
			r.send(t, addr, strings.Replace(strings.Replace(r.invite(uri, fmt.Sprintf("bad%d", i), ""), "INVITE "+uri, "ACK "+uri, 1), "CSeq: 1 INVITE", "CSeq: 1 ACK", 1))
		})
	}
	// Garbage that is no SIP at all, and a request line without headers.
	r.send(t, addr, "\x00\x01 this is not SIP\r\n\r\n")
	r.send(t, addr, "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n\r\n")
	ans.waitStderr(t, `SIP datagram from 127.0.0.1:\d+ dropped: `, 5*time.Second)
	if _, errs, code := callText(t, uri, "still alive"); code != 0 {
		t.Fatalf("call after the bad INVITEs: exit %d\n%s", code, errs)
	}
	if got := ans.next(t, 5*time.Second); !strings.HasSuffix(got, "still alive") {
		t.Errorf("answer printed %q", got)
	}
	ans.wait(t, 10*time.Second)
}

// TestSIPNoACK: a caller that vanishes between the 200 and the ACK:
// answer gives up after --sip-timeout, frees the call and answers the
// next.
func TestSIPNoACK(t *testing.T) {
	ans, uri := startAnswer(t, "--count", "1", "--max-calls", "1", "--sip-timeout", "500ms")
	r := newRawSIP(t)
	start := time.Now()
	r.send(t, sipAddr(uri), r.invite(uri, "noack1", msrpOffer("msrp://127.0.0.1:9/noack1;tcp", "active")))
	codes, _ := r.final(t, 5*time.Second)
	if !strings.HasPrefix(codes[len(codes)-1], "SIP/2.0 200") {
		t.Fatalf("got %v, want a 200", codes)
	}
	ans.waitStderr(t, `→ 200: .*no ACK`, 10*time.Second)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("giving up took %v", d)
	}
	if _, errs, code := callText(t, uri, "after"); code != 0 {
		t.Fatalf("next call: exit %d\n%s", code, errs)
	}
	ans.wait(t, 10*time.Second)
}

// TestSIPAnswererVanishes: the answerer dies while ringing; the caller
// cancels at its ring timeout and exits non-zero within its bounds.
func TestSIPAnswererVanishes(t *testing.T) {
	ans, uri := startAnswer(t, "--answer-delay", "30s")
	cl := start(t, "call", "--ring-timeout", "1s", "--sip-timeout", "500ms", uri, "hello")
	ans.waitStderr(t, `← INVITE`, 10*time.Second)
	ans.signal(syscall.SIGKILL)
	start := time.Now()
	if code := cl.wait(t, 20*time.Second); code == 0 {
		t.Fatal("call exited 0")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the caller needed %v to give up", d)
	}
	cl.waitStderr(t, `180 Ringing → CANCEL: .*no answer within 1s`, time.Second)
}

// TestSIPMalformedAnswer: a callee whose 200 carries a broken SDP answer,
// or one that rejects the MSRP stream: the caller says so, ACKs, hangs
// up with BYE and exits non-zero.
func TestSIPMalformedAnswer(t *testing.T) {
	for _, tc := range []struct{ name, sdp, want string }{
		{"garbage", "this is not SDP", "malformed SDP"},
		{"stream rejected", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=message 0 TCP/MSRP *\r\n", "no usable MSRP stream"},
		{"bad setup", msrpOffer("msrp://127.0.0.1:9/x;tcp", "actpass"), "a=setup:actpass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uas := newRawSIP(t)
			uri := fmt.Sprintf("sip:bob@127.0.0.1:%d", uas.port)
			cl := start(t, "call", "--sip-timeout", "1s", "--ring-timeout", "5s", uri, "hello")
			inv, from := uas.read(10 * time.Second)
			if !strings.HasPrefix(inv, "INVITE ") {
				t.Fatalf("got %q, want an INVITE", inv)
			}
			res := "SIP/2.0 200 OK\r\nVia: " + header(inv, "Via") + "\r\nFrom: " + header(inv, "From") +
				"\r\nTo: " + header(inv, "To") + ";tag=uas1\r\nCall-ID: " + header(inv, "Call-ID") + "\r\nCSeq: " + header(inv, "CSeq") +
				fmt.Sprintf("\r\nContact: <sip:bob@127.0.0.1:%d>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", uas.port, len(tc.sdp), tc.sdp)
			uas.send(t, from.String(), res)
			var sawACK, sawBYE bool
			for !(sawACK && sawBYE) {
				m, from := uas.read(5 * time.Second)
				if m == "" {
					t.Fatalf("ACK %v, BYE %v; want both", sawACK, sawBYE)
				}
				switch {
				case strings.HasPrefix(m, "ACK "):
					sawACK = true
				case strings.HasPrefix(m, "BYE "):
					sawBYE = true
					uas.send(t, from.String(), "SIP/2.0 200 OK\r\nVia: "+header(m, "Via")+"\r\nFrom: "+header(m, "From")+
						"\r\nTo: "+header(m, "To")+"\r\nCall-ID: "+header(m, "Call-ID")+"\r\nCSeq: "+header(m, "CSeq")+"\r\nContent-Length: 0\r\n\r\n")
				}
			}
			if code := cl.wait(t, 10*time.Second); code == 0 {
				t.Error("call exited 0")
			}
			cl.waitStderr(t, tc.want, time.Second)
		})
	}
}

// TestSIPAudioAndMessageOffer: an offer with audio and MSRP is answered
// with the message stream and the audio line rejected (port 0).
func TestSIPAudioAndMessageOffer(t *testing.T) {
	_, uri := startAnswer(t)
	r := newRawSIP(t)
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" +
		"m=message 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/av1;tcp\r\na=accept-types:text/plain\r\na=setup:active\r\n"
	r.send(t, sipAddr(uri), r.invite(uri, "av1", offer))
	codes, res := r.final(t, 5*time.Second)
	if !strings.HasPrefix(codes[len(codes)-1], "SIP/2.0 200") {
		t.Fatalf("got %v, want 200", codes)
	}
	_, body, _ := strings.Cut(res, "\r\n\r\n")
	if !strings.Contains(body, "m=audio 0 RTP/AVP 0\r\n") || !strings.Contains(body, "a=setup:passive\r\n") ||
		!strings.Contains(body, "a=max-size:67108864\r\n") || strings.Index(body, "m=audio") > strings.Index(body, "m=message") {
		t.Errorf("answer SDP:\n%s\nwant the audio rejected with port 0 first, then the message stream (passive, with a=max-size)", body)
	}
}
