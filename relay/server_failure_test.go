package relay

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/msrp"
)

func authedPair(t *testing.T, r *testRelay) (a, b *client) {
	t.Helper()
	a, b = dialClient(t, r.ws, r.wsURI), dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")
	return a, b
}

func TestReceiverGoneMidMessageReportsFailures(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.TransactionTimeout = 5 * time.Second })
	a, b := authedPair(t, r)
	id := msrp.NewMessageID()
	// b takes the first chunk, answers it, then takes the second without
	// answering and vanishes.
	send := func(n int, flag byte) {
		m := request("SEND", pathTo(a, b), a.uri, "Message-ID", id,
			"Byte-Range", fmt.Sprintf("%d-%d/30", n*10+1, n*10+10), "Content-Type", "text/plain")
		m.Body = []byte(strings.Repeat(string(rune('a'+n)), 10))
		m.Flag = flag
		a.send(m)
	}
	send(0, '+')
	m := b.next(5 * time.Second)
	b.send(m.Response(200, "OK"))
	if r := a.next(5 * time.Second); r.StatusCode != 200 {
		t.Fatalf("chunk 1: %d", r.StatusCode)
	}
	send(1, '+')
	b.next(5 * time.Second)
	if r := a.next(5 * time.Second); r.StatusCode != 200 {
		t.Fatalf("chunk 2: %d, want 200 from the relay", r.StatusCode)
	}
	b.conn.Close(0, "vanish")
	rep := a.next(5 * time.Second)
	st, err := rep.Status()
	if rep.Method != "REPORT" || err != nil || st.Code == 200 || rep.MessageID() != id || rep.Header("Byte-Range") != "11-20/30" {
		t.Fatalf("got %s %q %q %q, want a failure REPORT for bytes 11-20", rep.Method, rep.Header("Status"), rep.MessageID(), rep.Header("Byte-Range"))
	}
	if rep.Header("To-Path") != a.uri {
		t.Errorf("REPORT To-Path %q, want the sender %q", rep.Header("To-Path"), a.uri)
	}
	// The session died with its connection: a third chunk gets 481.
	send(2, '$')
	if r := a.next(5 * time.Second); r.StatusCode != 481 {
		t.Fatalf("chunk to a closed session: %d, want 481", r.StatusCode)
	}
}

func TestNextHopSilentGives408Report(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.TransactionTimeout = 200 * time.Millisecond })
	a, b := authedPair(t, r)
	sent := a.sendText(pathTo(a, b), []byte("hello?"))
	b.next(5 * time.Second) // never answered
	if r := a.next(5 * time.Second); r.StatusCode != 200 {
		t.Fatalf("got %d, want 200 from the relay", r.StatusCode)
	}
	start := time.Now()
	rep := a.next(5 * time.Second)
	if st, _ := rep.Status(); rep.Method != "REPORT" || st.Code != 408 || rep.MessageID() != sent.MessageID() {
		t.Fatalf("got %s %q, want REPORT 408", rep.Method, rep.Header("Status"))
	}
	if rep.Header("Byte-Range") != "1-6/6" {
		t.Errorf("REPORT Byte-Range %q, want 1-6/6", rep.Header("Byte-Range"))
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("REPORT after %v, timeout is 200ms", time.Since(start))
	}
}

func TestErrorResponseBecomesReport(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	a, b := authedPair(t, r)
	tests := []struct {
		name   string
		fr     string
		report bool
	}{
		{"failure-report yes", "yes", true},
		{"failure-report partial", "partial", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a.sendText(pathTo(a, b), []byte("x"), "Failure-Report", tc.fr)
			m := b.next(5 * time.Second)
			b.send(m.Response(415, "Unsupported Media Type"))
			// The relay's 200 ("yes" only) and the REPORT race: the REPORT
			// comes from b's connection, the 200 from a's.
			want := 1
			if tc.fr == "yes" {
				want = 2
			}
			var oks, reports int
			for i := 0; i < want; i++ {
				got := a.next(5 * time.Second)
				st, _ := got.Status()
				switch {
				case got.StatusCode == 200:
					oks++
				case got.Method == "REPORT" && st.Code == 415:
					reports++
				default:
					t.Fatalf("got %s %d %q", got.Method, got.StatusCode, got.Header("Status"))
				}
			}
			if reports != 1 || oks != want-1 {
				t.Fatalf("got %d REPORTs and %d 200s, want 1 and %d", reports, oks, want-1)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.BlockUnknownMethods = true })
	a, b := authedPair(t, r)
	c := dialClient(t, r.tcp, r.uri)
	c.auth(relayUser, relayPass)
	u, _ := msrp.ParseURI(a.use)
	u.SessionID = "unknownsessionid1234"
	tests := []struct {
		name string
		from *client
		req  *msrp.Message
		code int
	}{
		{"unknown session", a, request("SEND", u.String()+" "+b.uri, a.uri, "Message-ID", "m1"), 481},
		{"foreign connection uses a session outward", c, request("SEND", a.use+" "+b.use+" "+b.uri, c.uri, "Message-ID", "m2"), 403},
		{"forged From-Path", a, request("SEND", pathTo(a, b), "msrp://other.invalid:1/x;tcp "+a.uri, "Message-ID", "m3"), 403},
		{"path toward a client with extra hops", c, request("SEND", b.use+" msrp://x.invalid:1/y;tcp "+b.uri, c.uri, "Message-ID", "m4"), 403},
		{"blocked unknown method", a, request("FOO", pathTo(a, b), a.uri), 501},
		{"SEND with a body to the relay", a, func() *msrp.Message {
			m := request("SEND", a.use, a.uri, "Message-ID", "m5", "Content-Type", "text/plain")
			m.Body = []byte("hi relay")
			return m
		}(), 403},
		{"bad To-Path", a, request("SEND", "garbage", a.uri, "Message-ID", "m6"), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.from.send(tc.req)
			if got := tc.from.next(5 * time.Second); got.StatusCode != tc.code || got.TransactionID != tc.req.TransactionID {
				t.Fatalf("got %d %s, want %d", got.StatusCode, got.Comment, tc.code)
			}
		})
	}
	select {
	case m := <-b.msgs:
		t.Fatalf("b received %s %q though every request was refused", m.Method, m.Body)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestNotAddressedToRelayDropsConnection(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	c := dialClient(t, r.tcp, r.uri)
	c.send(request("SEND", "msrp://elsewhere.example.com:2855/abc;tcp", c.uri, "Message-ID", "x"))
	c.expectClosed(5 * time.Second)
	if !strings.Contains(r.logBuf.String(), "not addressed to this relay") {
		t.Errorf("no log line names the reason:\n%s", r.logBuf.String())
	}
}

func TestUnknownMethodForwardedAndAnswered(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	a, b := authedPair(t, r)
	req := request("NICKNAME", pathTo(a, b), a.uri, "Use-Nickname", `"alice"`)
	a.send(req)
	got := b.next(5 * time.Second)
	if got.Method != "NICKNAME" || got.Header("Use-Nickname") != `"alice"` {
		t.Fatalf("b got %s, want NICKNAME with its header", got.Method)
	}
	b.send(got.Response(200, "OK"))
	resp := a.next(5 * time.Second)
	if resp.StatusCode != 200 || resp.TransactionID != req.TransactionID || resp.Header("To-Path") != a.uri {
		t.Fatalf("a got %d tid %s To-Path %q, want 200 for %s to %s", resp.StatusCode, resp.TransactionID, resp.Header("To-Path"), req.TransactionID, a.uri)
	}
}

func TestReportForwardedAndItsResponseDropped(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	a, b := authedPair(t, r)
	rep := request("REPORT", pathTo(a, b), a.uri, "Message-ID", "r1", "Byte-Range", "1-5/5", "Status", "000 200 OK")
	a.send(rep)
	got := b.next(5 * time.Second)
	if got.Method != "REPORT" || got.Header("Status") != "000 200 OK" {
		t.Fatalf("b got %s %q", got.Method, got.Header("Status"))
	}
	b.send(got.Response(200, "OK")) // a broken client answers a REPORT
	a.send(request("SEND", a.use, a.uri, "Message-ID", "ka"))
	if m := a.next(5 * time.Second); m.StatusCode != 200 || m.IsRequest() || m.TransactionID == rep.TransactionID {
		t.Fatalf("a got %s %d (tid %s), want only the keepalive's 200", m.Method, m.StatusCode, m.TransactionID)
	}
}

func TestProbationClosesSilentConnection(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.Probation = 150 * time.Millisecond })
	c := dialClient(t, r.ws, r.wsURI)
	start := time.Now()
	c.expectClosed(5 * time.Second)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("closed after %v, probation is 150ms", d)
	}
	// A connection that authenticates stays.
	d := dialClient(t, r.ws, r.wsURI)
	d.auth(relayUser, relayPass)
	time.Sleep(300 * time.Millisecond)
	d.send(request("SEND", d.use, d.uri, "Message-ID", "ka"))
	if m := d.next(5 * time.Second); m.StatusCode != 200 {
		t.Fatalf("got %d", m.StatusCode)
	}
}

func TestMaxConnections(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.MaxConnections = 2 })
	a, b := authedPair(t, r)
	_ = a
	_ = b
	c := dialClient(t, r.tcp, r.uri)
	c.expectClosed(5 * time.Second)
	if !strings.Contains(r.logBuf.String(), "max-connections") {
		t.Errorf("no log line for the refusal:\n%s", r.logBuf.String())
	}
}

func TestOversizedChunkAbortedAnd413(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.MaxChunk = 8192; c.ForwardChunk = 2048 })
	a, b := dialClient(t, r.tcp, r.uri), dialClient(t, r.ws, r.wsURI)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")
	body := make([]byte, 20000)
	for i := range body {
		body[i] = 'x'
	}
	sent := a.sendText(pathTo(a, b), body)
	// Whatever b got of it ends with an aborted ('#') chunk.
	for {
		m := b.next(5 * time.Second)
		if m.MessageID() != sent.MessageID() {
			t.Fatalf("b got an unrelated %s", m.Method)
		}
		b.send(m.Response(200, "OK"))
		if m.Flag == '#' {
			break
		}
		if m.Flag != '+' {
			t.Fatalf("b got flag %c, want + until the abort", m.Flag)
		}
	}
	if resp := a.next(5 * time.Second); resp.StatusCode != 413 || resp.TransactionID != sent.TransactionID {
		t.Fatalf("sender got %d, want 413", resp.StatusCode)
	}
}

func TestExpiredSessionIs481(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.MinExpires = time.Second })
	a, b := authedPair(t, r)
	c := dialClient(t, r.tcp, r.uri)
	c.send(c.authRequest("", "", nil, 0))
	ch, _ := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
	c.send(c.authRequest("bob", "secret-bob", ch, 1, "Expires", "1"))
	ok := c.next(5 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("AUTH: %d", ok.StatusCode)
	}
	c.use = ok.Header("Use-Path")
	_ = b
	time.Sleep(1100 * time.Millisecond)
	a.sendText(pathTo(a, c), []byte("too late"))
	if resp := a.next(5 * time.Second); resp.StatusCode != 481 {
		t.Fatalf("SEND to an expired Use-Path: %d, want 481", resp.StatusCode)
	}
}

func TestFailureReportNoMeansSilence(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.TransactionTimeout = 100 * time.Millisecond })
	a, b := authedPair(t, r)
	a.sendText(pathTo(a, b), []byte("fire and forget"), "Failure-Report", "no")
	if m := b.next(5 * time.Second); string(m.Body) != "fire and forget" {
		t.Fatalf("b got %q", m.Body)
	}
	// Neither a 200 nor a REPORT, even after the transaction timeout.
	a.send(request("SEND", a.use, a.uri, "Message-ID", "ka"))
	if m := a.next(5 * time.Second); m.StatusCode != 200 || m.IsRequest() {
		t.Fatalf("a got %s %d first, want only its keepalive's 200", m.Method, m.StatusCode)
	}
	select {
	case m := <-a.msgs:
		t.Fatalf("a got %s %d %q for a Failure-Report: no SEND", m.Method, m.StatusCode, m.Header("Status"))
	case <-time.After(300 * time.Millisecond):
	}
}
