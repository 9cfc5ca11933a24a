package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
)

// scrape fetches url/metrics and parses the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels are
// labels (name=value pairs); -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// want is one expected change of a sample between two scrapes.
type want struct {
	name   string
	labels []string
	delta  float64
}

func checkDeltas(t *testing.T, before, after map[string]*dto.MetricFamily, wants []want) {
	t.Helper()
	for _, w := range wants {
		b, a := value(before, w.name, w.labels...), value(after, w.name, w.labels...)
		if b < 0 || a < 0 {
			t.Errorf("%s%v: missing (before %v, after %v)", w.name, w.labels, b, a)
			continue
		}
		if a-b != w.delta {
			t.Errorf("%s%v moved by %v (%v -> %v), want %v", w.name, w.labels, a-b, b, a, w.delta)
		}
	}
}

// TestMetricsAfterScriptedTraffic drives a relay over real sockets
// through a keepalive timeout, a refused WebSocket handshake, a failed
// AUTH and a chat, scraping /metrics in between, and checks that each
// counter moved by what that traffic should move it.
func TestMetricsAfterScriptedTraffic(t *testing.T) {
	r := startRelay(t, func(c *relay.Config) {
		c.Transport.Keepalive = keepalive.Config{Interval: 300 * time.Millisecond, Timeout: 100 * time.Millisecond, Misses: 2}
	})
	health := new(Health)
	health.SetReady()
	hs := httptest.NewServer(Handler(NewRegistry(r.srv.Stats, "v-test"), health))
	defer hs.Close()
	start := scrape(t, hs.URL)
	if v := value(start, "msrpd_build_info", "version", "v-test"); v != 1 {
		t.Errorf("msrpd_build_info{version=v-test} = %v, want 1", v)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if start[name] == nil {
			t.Errorf("no %s: the Go runtime and process collectors are missing", name)
		}
	}

	// 1. A TCP client that AUTHs and then answers no probe: two bodiless
	// SEND probes go unanswered, and the connection is closed.
	v := r.dialWith(t, "tcp", true)
	if code := v.auth("alice", "alicepw"); code != 200 {
		t.Fatalf("AUTH: %d", code)
	}
	select {
	case <-v.conn.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the silent client was not closed")
	}
	var afterKA map[string]*dto.MetricFamily
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		afterKA = scrape(t, hs.URL)
		if value(afterKA, "msrpd_sessions_ended_total", "reason", "connection-closed") >= 1 || time.Now().After(deadline) {
			break
		}
	}
	checkDeltas(t, start, afterKA, []want{
		{"msrpd_keepalive_probes_total", []string{"kind", "send"}, 2},
		{"msrpd_keepalive_probes_total", []string{"kind", "frames"}, 0},
		{"msrpd_keepalive_misses_total", nil, 2},
		{"msrpd_keepalive_timeouts_total", nil, 1},
		{"msrpd_keepalive_answers_total", nil, 0},
		{"msrpd_connections_closed_total", []string{"reason", "keepalive-timeout"}, 1},
		{"msrpd_sessions_ended_total", []string{"reason", "connection-closed"}, 1},
		{"msrpd_connections_open", []string{"transport", "tcp"}, 0},
		{"msrpd_connections_accepted_total", []string{"transport", "tcp"}, 1},
	})

	// 2. A WebSocket handshake without the msrp subprotocol, refused with
	// 400, and one from a foreign page, refused with 403: never
	// connections of the relay's.
	if code := handshake(t, r.ws, "", ""); code != http.StatusBadRequest {
		t.Errorf("handshake without msrp: %d, want 400", code)
	}
	if code := handshake(t, r.ws, "msrp", "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("handshake from a foreign Origin: %d, want 403", code)
	}

	// 3. A failed AUTH: challenged, then refused.
	f := r.dial(t, "tcp")
	if code := f.auth("bob", "wrong"); code != 401 {
		t.Fatalf("AUTH with a wrong password: %d, want 401", code)
	}

	// 4. A chat: alice over WebSocket, bob over TCP, ten messages each way.
	a, b := r.dial(t, "ws"), r.dial(t, "tcp")
	if a.auth("alice", "alicepw") != 200 || b.auth("bob", "bobpw") != 200 {
		t.Fatal("AUTH failed")
	}
	bytes := 0
	for i := range 10 {
		ab, ba := fmt.Sprintf("hello bob %d", i), fmt.Sprintf("hi alice, number %d", i)
		a.chat(b, ab)
		b.chat(a, ba)
		bytes += len(ab) + len(ba)
	}
	// The relay answers each SEND before the receiver's 200 reaches it
	// (hop by hop), so the last 200s may still be on their way; and a
	// reader adds its counts to the totals when it next waits for input,
	// just after its client got the answer.
	var end map[string]*dto.MetricFamily
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		end = scrape(t, hs.URL)
		if value(end, "msrpd_responses_received_total", "class", "2xx") >= 20 &&
			value(end, "msrpd_relayed_chunks_total", "direction", "in") >= 20 &&
			value(end, "msrpd_responses_sent_total", "class", "2xx") >= 23 || time.Now().After(deadline) {
			break
		}
	}
	checkDeltas(t, start, end, []want{
		{"msrpd_auth_total", []string{"result", "ok"}, 3},
		{"msrpd_auth_total", []string{"result", "challenged"}, 4},
		{"msrpd_auth_total", []string{"result", "failed"}, 1},
		{"msrpd_auth_total", []string{"result", "refused"}, 0},
		{"msrpd_requests_total", []string{"method", "AUTH"}, 8},
		{"msrpd_requests_total", []string{"method", "SEND"}, 20},
		{"msrpd_requests_total", []string{"method", "REPORT"}, 0},
		{"msrpd_responses_sent_total", []string{"class", "2xx"}, 20 + 3},
		{"msrpd_responses_sent_total", []string{"class", "4xx"}, 4 + 1}, // four challenges, one failure
		{"msrpd_responses_received_total", []string{"class", "2xx"}, 20},
		{"msrpd_relayed_chunks_total", []string{"direction", "in"}, 20},
		{"msrpd_relayed_chunks_total", []string{"direction", "out"}, 20},
		{"msrpd_relayed_bytes_total", []string{"direction", "in"}, float64(bytes)},
		{"msrpd_relayed_bytes_total", []string{"direction", "out"}, float64(bytes)},
		{"msrpd_forwarding_latency_seconds", nil, 20},
		{"msrpd_connections_accepted_total", []string{"transport", "tcp"}, 3},
		{"msrpd_connections_accepted_total", []string{"transport", "ws"}, 1},
		{"msrpd_connections_open", []string{"transport", "tcp"}, 2},
		{"msrpd_connections_open", []string{"transport", "ws"}, 1},
		{"msrpd_sessions_active", nil, 2},
		{"msrpd_sessions_started_total", nil, 3},
		{"msrpd_failure_reports_total", nil, 0},
		{"msrpd_transaction_timeouts_total", nil, 0},
		{"msrpd_connections_closed_total", []string{"reason", "keepalive-timeout"}, 1},
		{"msrpd_websocket_handshakes_refused_total", []string{"reason", "subprotocol"}, 1},
		{"msrpd_websocket_handshakes_refused_total", []string{"reason", "origin"}, 1},
		{"msrpd_websocket_handshakes_refused_total", []string{"reason", "bad-request"}, 0},
		{"msrpd_tls_handshake_failures_total", nil, 0},
	})
	// Exposition rules: one msrpd_ prefix, counters end in _total, base
	// units, no label naming a user.
	for name, f := range end {
		if !strings.HasPrefix(name, "msrpd_") {
			continue
		}
		if strings.HasPrefix(name, "msrpd_msrpd") || (f.GetType() == dto.MetricType_COUNTER) != strings.HasSuffix(name, "_total") {
			t.Errorf("%s (%v): breaks the naming rules", name, f.GetType())
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "user" || strings.Contains(l.GetValue(), "alice") {
					t.Errorf("%s has a per-user label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestHealthEndpoints(t *testing.T) {
	r := startRelay(t, nil)
	health := new(Health)
	hs := httptest.NewServer(Handler(NewRegistry(r.srv.Stats, "v"), health))
	defer hs.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	for _, step := range []struct {
		do          func()
		ready, body string
		code        int
	}{
		{func() {}, "/readyz", "starting", 503},
		{health.SetReady, "/readyz", "ready", 200},
		{health.SetDraining, "/readyz", "draining", 503},
		{func() {}, "/healthz", "ok", 200},
	} {
		step.do()
		if code, body := get(step.ready); code != step.code || body != step.body {
			t.Errorf("%s: %d %q, want %d %q", step.ready, code, body, step.code, step.body)
		}
	}
}
