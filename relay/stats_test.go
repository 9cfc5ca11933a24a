package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// sessionEnds collects Events.OnSessionEnd calls.
type sessionEnds struct {
	mu   sync.Mutex
	ends []SessionInfo
}

func (e *sessionEnds) record(i SessionInfo) {
	e.mu.Lock()
	e.ends = append(e.ends, i)
	e.mu.Unlock()
}

// of waits for the end of user's session and returns it.
func (e *sessionEnds) of(t *testing.T, user string) SessionInfo {
	t.Helper()
	var got SessionInfo
	if !waitFor(5*time.Second, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, i := range e.ends {
			if i.User == user {
				got = i
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no session end of %s reported", user)
	}
	return got
}

func (e *sessionEnds) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.ends)
}

func sessionID(t *testing.T, use string) string {
	t.Helper()
	u, err := msrp.ParseURI(use)
	if err != nil || u.SessionID == "" {
		t.Fatalf("Use-Path %q: %v", use, err)
	}
	return u.SessionID
}

// TestStatsCountChat checks every counter a chat moves, by the right
// amount: AUTHs, requests and responses, chunks and bytes both ways
// (a chunk re-chunked into three pieces included), the latency
// histogram, connections by transport, and the sessions' own counters,
// live and in the record of their end.
func TestStatsCountChat(t *testing.T) {
	checkGoroutines(t)
	ends := &sessionEnds{}
	r := newTestRelay(t, func(c *Config) {
		c.ForwardChunk = 4096
		c.Events.OnSessionEnd = ends.record
	})
	a, b := authedPair(t, r) // a over WebSocket, b over TCP
	go func() {
		for m := range b.msgs {
			if m.IsRequest() {
				b.conn.Send(m.Response(200, "OK"))
			}
		}
	}()
	var body bytes.Buffer
	const n = 5
	for i := range n {
		text := []byte(fmt.Sprintf("message %d", i))
		body.Write(text)
		a.sendText(pathTo(a, b), text)
		if r := a.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("message %d: %d", i, r.StatusCode)
		}
	}
	big := bytes.Repeat([]byte("x"), 10000) // three pieces of at most 4096
	a.sendText(pathTo(a, b), big)
	if r := a.next(5 * time.Second); r.StatusCode != 200 {
		t.Fatalf("big chunk: %d", r.StatusCode)
	}
	bytesSent := uint64(body.Len() + len(big))

	// The tallies reach Stats when the readers wait, which may be just
	// after a client got its answer; b's 200s may still be on their way.
	var st Stats
	waitFor(5*time.Second, func() bool {
		st = r.srv.Stats()
		return st.ResponsesIn.C2xx == n+3 && st.ChunksIn == n+1 && st.ResponsesOut.C2xx == n+3
	})
	want := []struct {
		name      string
		got, want uint64
	}{
		{"AUTH requests", st.Requests.AUTH, 4},
		{"SEND requests", st.Requests.SEND, n + 1},
		{"auth ok", st.Auth.OK, 2},
		{"auth challenged", st.Auth.Challenged, 2},
		{"auth failed", st.Auth.Failed, 0},
		{"responses sent 2xx", st.ResponsesOut.C2xx, n + 1 + 2},
		{"responses sent 4xx", st.ResponsesOut.C4xx, 2},
		{"chunks in", st.ChunksIn, n + 1},
		{"chunks out", st.ChunksOut, n + 3},
		{"bytes in", st.BytesIn, bytesSent},
		{"bytes out", st.BytesOut, bytesSent},
		{"latency observations", st.Latency.Count, n + 1},
		{"open ws", uint64(st.Open[transport.KindWS]), 1},
		{"open tcp", uint64(st.Open[transport.KindTCP]), 1},
		{"accepted ws", uint64(st.Accepted.WS), 1},
		{"accepted tcp", uint64(st.Accepted.TCP), 1},
		{"sessions started", st.SessionsStarted, 2},
		{"failures", uint64(st.FailuresReported), 0},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s: %d, want %d", w.name, w.got, w.want)
		}
	}
	if c := st.Latency.Counts; c[len(c)-1] != st.Latency.Count || st.Latency.Sum <= 0 {
		t.Errorf("latency histogram %+v: want every observation under 10 s and a positive sum", st.Latency)
	}

	list := r.srv.Sessions()
	if len(list) != 2 {
		t.Fatalf("Sessions() = %d entries, want 2", len(list))
	}
	byUser := map[string]SessionInfo{}
	for _, i := range list {
		byUser[i.User] = i
	}
	sa, sb := byUser[relayUser], byUser["bob"]
	if sa.Transport != "ws" || sb.Transport != "tcp" || sa.ID != sessionID(t, a.use) || sb.URI != b.use || sa.Realm != relayRealm {
		t.Errorf("sessions %+v, %+v: want alice over ws and bob over tcp with their Use-Paths", sa, sb)
	}
	if sa.ChunksIn != n+1 || sa.BytesIn != bytesSent || sa.MessagesIn != n+1 || sa.ChunksOut != 0 || sa.BytesOut != 0 {
		t.Errorf("alice's counters %+v: want %d chunks, %d bytes, %d messages in, nothing out", sa, n+1, bytesSent, n+1)
	}
	if sb.ChunksOut != n+3 || sb.BytesOut != bytesSent || sb.MessagesOut != n+1 || sb.ChunksIn != 0 {
		t.Errorf("bob's counters %+v: want %d chunks, %d bytes, %d messages out, nothing in", sb, n+3, bytesSent, n+1)
	}
	if sa.Keepalive.Mode != "off" || sa.Idle < 0 || sa.Idle > 5*time.Second {
		t.Errorf("alice's keepalive %+v idle %v: want off (the test relay does not probe), a small idle time", sa.Keepalive, sa.Idle)
	}

	b.conn.Close(0, "leaving")
	end := ends.of(t, "bob")
	if end.EndReason != EndClosed || end.Detail != "peer-closed" || end.BytesOut != bytesSent || end.ChunksOut != n+3 ||
		end.End.Before(end.Start) || end.Duration() <= 0 || end.Peer == "" {
		t.Errorf("bob's end %+v: want connection-closed (peer-closed) with %d bytes out", end, bytesSent)
	}
	if !waitFor(5*time.Second, func() bool {
		st = r.srv.Stats()
		return st.SessionsEnded.Closed == 1 && st.Open[transport.KindTCP] == 0
	}) {
		t.Errorf("after bob left: %d sessions ended (closed), %d tcp open; want 1 and 0", st.SessionsEnded.Closed, st.Open[transport.KindTCP])
	}
}

// TestCloseSession closes bob's connection as an operator would while
// three of alice's messages wait for bob's answers: bob's connection is
// closed, alice gets a failure REPORT for each, and the records say why.
func TestCloseSession(t *testing.T) {
	checkGoroutines(t)
	ends := &sessionEnds{}
	r := newTestRelay(t, func(c *Config) { c.Events.OnSessionEnd = ends.record })
	a, b := authedPair(t, r)
	if err := r.srv.CloseSession(context.Background(), "no-such-session", "x"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("CloseSession of an unknown id: %v, want ErrNoSession", err)
	}
	ids := map[string]bool{}
	for i := range 3 {
		ids[a.sendText(pathTo(a, b), []byte(fmt.Sprintf("in flight %d", i))).MessageID()] = true
		b.next(5 * time.Second) // taken, never answered
		if r := a.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("message %d: %d", i, r.StatusCode)
		}
	}
	if err := r.srv.CloseSession(context.Background(), sessionID(t, b.use), "testing"); err != nil {
		t.Fatalf("CloseSession: %v", err)
	}
	// The record is out when CloseSession returns.
	if n := ends.count(); n != 1 {
		t.Fatalf("%d session ends reported when CloseSession returned, want 1", n)
	}
	end := ends.of(t, "bob")
	if end.EndReason != EndAdmin || !strings.Contains(end.Detail, "testing") {
		t.Errorf("bob's end: %v %q, want admin-close with the reason", end.EndReason, end.Detail)
	}
	b.expectClosed(5 * time.Second)
	for range 3 {
		rep := a.next(5 * time.Second)
		st, err := rep.Status()
		if rep.Method != "REPORT" || err != nil || st.Code != 408 || !ids[rep.MessageID()] {
			t.Fatalf("alice got %s %q for %q, want a 408 failure REPORT for a message in flight", rep.Method, rep.Header("Status"), rep.MessageID())
		}
		delete(ids, rep.MessageID())
	}
	st := r.srv.Stats()
	if st.SessionsEnded.Admin != 1 || st.Closed[transport.ReasonAdmin] != 1 || st.FailuresReported != 3 {
		t.Errorf("stats: %d admin ends, %d admin closes, %d failures; want 1, 1, 3", st.SessionsEnded.Admin, st.Closed[transport.ReasonAdmin], st.FailuresReported)
	}
	if got := r.srv.Sessions(); len(got) != 1 || got[0].User != relayUser || got[0].FailureReports != 3 {
		t.Errorf("sessions after the close: %+v; want alice's, with 3 failure REPORTs", got)
	}
	if !strings.Contains(r.logBuf.String(), "admin-close (testing") {
		t.Errorf("no close line with the reason in the log:\n%s", r.logBuf.String())
	}
}

// TestSessionExpiryIsReported: a session nobody uses ends within about a
// second of its Expires, without a request to find it expired.
func TestSessionExpiryIsReported(t *testing.T) {
	checkGoroutines(t)
	ends := &sessionEnds{}
	r := newTestRelay(t, func(c *Config) {
		c.MinExpires = time.Second
		c.Events.OnSessionEnd = ends.record
	})
	c := dialClient(t, r.tcp, r.uri)
	c.send(c.authRequest("", "", nil, 0))
	ch, err := digest.Parse(c.next(5 * time.Second).WWWAuthenticate())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.send(c.authRequest(relayUser, relayPass, ch, 1, "Expires", "1"))
	if resp := c.next(5 * time.Second); resp.StatusCode != 200 {
		t.Fatalf("AUTH: %d", resp.StatusCode)
	}
	end := ends.of(t, relayUser)
	if end.EndReason != EndExpired {
		t.Errorf("end reason %v, want expired", end.EndReason)
	}
	if d := time.Since(start); d < time.Second || d > 4*time.Second {
		t.Errorf("ended after %v, want between 1 s (Expires) and about 2 s", d)
	}
	if st := r.srv.Stats(); st.SessionsEnded.Expired != 1 || st.Sessions != 0 {
		t.Errorf("stats: %d expired, %d live; want 1, 0", st.SessionsEnded.Expired, st.Sessions)
	}
}

// TestShutdownEndsSessions: a graceful shutdown ends every session with
// reason shutdown, before Shutdown returns.
func TestShutdownEndsSessions(t *testing.T) {
	checkGoroutines(t)
	ends := &sessionEnds{}
	r := newTestRelay(t, func(c *Config) { c.Events.OnSessionEnd = ends.record })
	authedPair(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ends.count(); n != 2 {
		t.Fatalf("%d session ends when Shutdown returned, want 2", n)
	}
	for _, u := range []string{relayUser, "bob"} {
		if e := ends.of(t, u); e.EndReason != EndShutdown {
			t.Errorf("%s: %v, want shutdown", u, e.EndReason)
		}
	}
}

// TestStatsCountOutbound: a chat through two relays counts one outbound
// connection on the relay that dialled, an inbound TLS connection on the
// other, and the relayed chunks on each.
func TestStatsCountOutbound(t *testing.T) {
	checkGoroutines(t)
	ca := testpki.NewCA(t)
	r1, r2 := newTLSRelay(t, ca, "relay1.test"), newTLSRelay(t, ca, "relay2.test")
	a, b := dialClient(t, r1.ws, r1.wsURI), dialClient(t, r2.ws, r2.wsURI)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")
	for i := range 3 {
		a.sendText(a.use+" "+b.use+" "+b.uri, []byte(fmt.Sprintf("hello %d", i)))
		b.send(b.next(5*time.Second).Response(200, "OK"))
		if r := a.next(5 * time.Second); r.StatusCode != 200 {
			t.Fatalf("a got %d", r.StatusCode)
		}
	}
	// The tallies reach Stats when the readers wait, which may be just
	// after a client got its answer.
	var s1, s2 Stats
	waitFor(5*time.Second, func() bool {
		s1, s2 = r1.srv.Stats(), r2.srv.Stats()
		return s1.ResponsesIn.C2xx == 3 && s2.ResponsesIn.C2xx == 3 && s1.ChunksIn == 3 && s2.ChunksIn == 3
	})
	if s1.Outbound != (OutboundStats{Open: 1, Dialed: 1}) || s2.Outbound != (OutboundStats{}) {
		t.Errorf("outbound: r1 %+v, r2 %+v; want one dialled and open on r1, none on r2", s1.Outbound, s2.Outbound)
	}
	// Open counts both ends of the relays' connection: r1 dialled it.
	if s2.Accepted.TLS != 1 || s2.Open[transport.KindTLS] != 1 || s1.Open[transport.KindTLS] != 1 || s1.Accepted.TLS != 0 {
		t.Errorf("TLS connections: r2 accepted %d, open %d; r1 accepted %d, open %d; want 1, 1, 0, 1",
			s2.Accepted.TLS, s2.Open[transport.KindTLS], s1.Accepted.TLS, s1.Open[transport.KindTLS])
	}
	for i, st := range []Stats{s1, s2} {
		if st.ChunksIn != 3 || st.ChunksOut != 3 || st.Requests.SEND != 3 || st.Latency.Count != 3 {
			t.Errorf("r%d: %d chunks in, %d out, %d SENDs, %d latencies; want 3 each", i+1, st.ChunksIn, st.ChunksOut, st.Requests.SEND, st.Latency.Count)
		}
	}
	// The sessions: alice's on r1 sent 3 in, bob's on r2 got 3 out.
	if s := r1.srv.Sessions(); len(s) != 1 || s[0].ChunksIn != 3 || s[0].ChunksOut != 0 {
		t.Errorf("r1 sessions %+v", s)
	}
	if s := r2.srv.Sessions(); len(s) != 1 || s[0].ChunksOut != 3 || s[0].ChunksIn != 0 {
		t.Errorf("r2 sessions %+v", s)
	}
}
