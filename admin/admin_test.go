package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
)

// fakeRelay has one session, "s1", and records what was closed.
type fakeRelay struct {
	closed, reason string
	err            error
}

func (f *fakeRelay) Sessions() []relay.SessionInfo {
	start := time.Now().Add(-time.Minute)
	return []relay.SessionInfo{{ID: "s1", URI: "msrp://r.test:2855/s1;tcp", User: "alice", Realm: "test", Transport: "ws",
		Peer: "192.0.2.7:4000", Start: start, Expires: start.Add(time.Hour), Idle: 1500 * time.Millisecond,
		Keepalive: keepalive.State{Mode: "frames", Probing: true, Misses: 1}, BytesIn: 10, ChunksOut: 3}}
}

func (f *fakeRelay) CloseSession(_ context.Context, id, reason string) error {
	if id != "s1" {
		return relay.ErrNoSession
	}
	f.closed, f.reason = id, reason
	return f.err
}

func TestHandler(t *testing.T) {
	f := &fakeRelay{}
	hs := httptest.NewServer(Handler(f))
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/sessions")
	if err != nil {
		t.Fatal(err)
	}
	var list List
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Type") != "application/json" || len(list.Sessions) != 1 {
		t.Fatalf("GET /sessions: %v %q %+v", err, resp.Header.Get("Content-Type"), list)
	}
	s := list.Sessions[0]
	if s.Session != "s1" || s.User != "alice" || s.Transport != "ws" || s.BytesIn != 10 || s.ChunksOut != 3 || s.Idle != 1.5 ||
		s.Keepalive != (Keepalive{Mode: "frames", Probing: true, Misses: 1}) || s.Reason != "" || s.Duration < 59 || s.Expires.IsZero() {
		t.Errorf("entry %+v", s)
	}

	del := func(path string) int {
		req, _ := http.NewRequest("DELETE", hs.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del("/sessions/nope"); code != 404 {
		t.Errorf("DELETE unknown: %d, want 404", code)
	}
	if code := del("/sessions/s1?reason=abuse"); code != 204 || f.closed != "s1" || f.reason != "abuse" {
		t.Errorf("DELETE s1: %d, closed %q for %q", code, f.closed, f.reason)
	}
	if code := del("/sessions/s1"); code != 204 || f.reason != "closed by the operator" {
		t.Errorf("DELETE without a reason: %d, reason %q", code, f.reason)
	}
	f.err = context.DeadlineExceeded
	if code := del("/sessions/s1"); code != http.StatusGatewayTimeout {
		t.Errorf("DELETE that does not finish: %d, want 504", code)
	}
	if code := del("/sessions"); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /sessions: %d, want 405", code)
	}
}
