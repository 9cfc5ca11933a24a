package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/msrp"
)

// waitLog waits for a log line containing s and returns it.
func (d *daemon) waitLog(s string) string {
	d.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case line := <-d.log.ch:
			if strings.Contains(line, s) {
				return line
			}
		case <-deadline:
			d.t.Fatalf("no log line with %q", s)
		}
	}
}

func httpDo(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sendChunk sends one chunk of a message from c along to.
func (c *rawClient) sendChunk(to, id string, body []byte, start, total int, flag byte) {
	c.t.Helper()
	m := req("SEND", to, c.uri, "Message-ID", id,
		"Byte-Range", fmt.Sprintf("%d-%d/%d", start, start+len(body)-1, total), "Content-Type", "application/octet-stream")
	m.Body, m.Flag = body, flag
	c.send(m)
}

// TestDaemonMetricsAndReadyz: --metrics-addr serves /metrics with the
// relay's counters, /healthz, and /readyz, which answers 503 from SIGTERM
// on while a forwarded chunk still waits for its answer, and msrpd stops
// once it is answered.
func TestDaemonMetricsAndReadyz(t *testing.T) {
	d := startDaemon(t, 1, "--tcp", "127.0.0.1:0", "--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "test",
		"--metrics-addr", "127.0.0.1:0", "--shutdown-timeout", "10s")
	base := "http://" + d.ops["metrics"]
	// Ready once every listener serves, a moment after they are announced.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, body := httpDo(t, "GET", base+"/readyz")
		if code == 200 && body == "ready\n" {
			break
		}
		if code != 503 || body != "starting\n" || time.Now().After(deadline) {
			t.Fatalf("/readyz before SIGTERM: %d %q, want 503 starting, then 200 ready", code, body)
		}
	}
	a, b := dialRaw(t, d.addrs["tcp"]), dialRaw(t, d.addrs["tcp"])
	a.auth("alice", "alicepw")
	b.auth("bob", "bobpw")
	exchange(t, a, b, a.use+" "+b.use+" "+b.uri, "hello")
	// A reader adds its counts to the totals when it next waits for
	// input, just after the sender got its 200.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, body := httpDo(t, "GET", base+"/metrics")
		if strings.Contains(body, `msrpd_relayed_bytes_total{direction="in"} 5`) &&
			strings.Contains(body, "msrpd_sessions_active 2") && strings.Contains(body, "go_goroutines") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics after a chat lacks the chat's counts:\n%s", body)
		}
	}

	// A chunk in flight: b takes it and does not answer yet.
	m := req("SEND", a.use+" "+b.use+" "+b.uri, a.uri, "Message-ID", "m2", "Byte-Range", "1-7/7", "Content-Type", "text/plain")
	m.Body = []byte("drained")
	a.send(m)
	got := b.next()
	if r := a.next(); r.StatusCode != 200 {
		t.Fatalf("in-flight SEND: %d", r.StatusCode)
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := httpDo(t, "GET", base+"/readyz")
		if code == 503 && body == "draining\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after SIGTERM: %d %q, want 503 draining", code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := httpDo(t, "GET", base+"/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d, want 200", code)
	}
	select {
	case err := <-d.done:
		t.Fatalf("msrpd stopped (%v) with a chunk in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	b.send(got.Response(200, "OK"))
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("msrpd exited with %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("msrpd did not stop once the chunk was answered")
	}
}

// TestDaemonAccountingLog: a file of known size goes from alice to bob
// in ten chunks; when both leave, the accounting log has a record of
// each session with the exact byte counts. After the file is moved away
// and SIGHUP, records go to a new file at the same path.
func TestDaemonAccountingLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounting.log")
	d := startDaemon(t, 1, "--tcp", "127.0.0.1:0", "--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "test",
		"--accounting-log", path)
	a, b := dialRaw(t, d.addrs["tcp"]), dialRaw(t, d.addrs["tcp"])
	a.auth("alice", "alicepw")
	b.auth("bob", "bobpw")
	const size, chunk = 100000, 10000
	file := bytes.Repeat([]byte("0123456789abcdefghij"), size/20)
	to := a.use + " " + b.use + " " + b.uri
	var received []byte
	for off := 0; off < size; off += chunk {
		flag := byte('+')
		if off+chunk == size {
			flag = '$'
		}
		a.sendChunk(to, "file-1", file[off:off+chunk], off+1, size, flag)
		got := b.next()
		received = append(received, got.Body...)
		b.send(got.Response(200, "OK"))
		if r := a.next(); r.StatusCode != 200 {
			t.Fatalf("chunk at %d: %d", off, r.StatusCode)
		}
	}
	if !bytes.Equal(received, file) {
		t.Fatalf("bob received %d bytes, not the file", len(received))
	}
	a.conn.Close()
	b.conn.Close()
	recs := waitRecords(t, path, 2)
	byUser := map[string]map[string]any{}
	for _, r := range recs {
		byUser[r["user"].(string)] = r
	}
	ra, rb := byUser["alice"], byUser["bob"]
	for _, c := range []struct {
		rec   map[string]any
		field string
		want  any
	}{
		{ra, "bytes_in", float64(size)}, {ra, "chunks_in", float64(10)}, {ra, "messages_in", float64(1)},
		{ra, "bytes_out", float64(0)}, {rb, "bytes_out", float64(size)}, {rb, "chunks_out", float64(10)},
		{rb, "messages_out", float64(1)}, {rb, "bytes_in", float64(0)}, {ra, "reason", "connection-closed"},
		{ra, "detail", "peer-closed"}, {ra, "transport", "tcp"}, {ra, "realm", "test"}, {rb, "failure_reports", float64(0)},
		{ra, "session", sessionIDOf(t, a.use)}, {rb, "uri", b.use},
	} {
		if c.rec == nil || c.rec[c.field] != c.want {
			t.Errorf("record %v: %s = %v, want %v", c.rec, c.field, c.rec[c.field], c.want)
		}
	}
	for _, r := range recs {
		if r["duration"].(float64) <= 0 || r["peer"] == "" || r["time"] == "" {
			t.Errorf("record %v: want a duration, a peer and a time", r)
		}
	}

	// Rotation: move the file, SIGHUP, and the next record starts a new file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog("SIGHUP: reopened accounting log")
	c := dialRaw(t, d.addrs["tcp"])
	c.auth("alice", "alicepw")
	c.conn.Close()
	if recs := waitRecords(t, path, 1); recs[0]["session"] != sessionIDOf(t, c.use) {
		t.Errorf("new file: %v, want the third session", recs)
	}
	if old := waitRecords(t, path+".1", 2); len(old) != 2 {
		t.Errorf("rotated file: %d records, want 2", len(old))
	}
	raw, _ := os.ReadFile(path + ".1")
	if strings.Contains(string(raw), "alicepw") || strings.Contains(string(raw), "0123456789") {
		t.Error("the accounting log holds a password or a body")
	}
}

func sessionIDOf(t *testing.T, use string) string {
	u, err := msrp.ParseURI(use)
	if err != nil {
		t.Fatal(err)
	}
	return u.SessionID
}

// waitRecords waits until path holds n JSON lines and returns them.
func waitRecords(t *testing.T, path string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var recs []map[string]any
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var r map[string]any
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
				}
				recs = append(recs, r)
			}
			f.Close()
		}
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d records, want %d", path, len(recs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDaemonSessionsAdmin: GET /sessions lists two chatting clients;
// DELETE closes bob's connection while two of alice's messages wait for
// bob's answer, and alice gets a failure REPORT for each.
func TestDaemonSessionsAdmin(t *testing.T) {
	d := startDaemon(t, 2, "--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--user", "alice:alicepw", "--user", "bob:bobpw",
		"--realm", "test", "--metrics-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	if d.ops["sessions"] == "" || d.ops["sessions"] == d.ops["metrics"] {
		t.Fatalf("operator listeners %v: want two", d.ops)
	}
	base := "http://" + d.ops["sessions"]
	if code, _ := httpDo(t, "GET", "http://"+d.ops["metrics"]+"/sessions"); code != 404 {
		t.Errorf("/sessions on the metrics listener: %d, want 404 (it has its own)", code)
	}
	a, b := dialRaw(t, d.addrs["tcp"]), dialRaw(t, d.addrs["tcp"])
	a.auth("alice", "alicepw")
	b.auth("bob", "bobpw")
	exchange(t, a, b, a.use+" "+b.use+" "+b.uri, "hello bob")
	exchange(t, b, a, b.use+" "+a.use+" "+a.uri, "hi")

	code, body := httpDo(t, "GET", base+"/sessions")
	var list struct {
		Sessions []map[string]any `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil {
		t.Fatalf("GET /sessions: %d %v\n%s", code, err, body)
	}
	if len(list.Sessions) != 2 {
		t.Fatalf("GET /sessions: %d sessions, want 2\n%s", len(list.Sessions), body)
	}
	users := map[string]map[string]any{}
	for _, s := range list.Sessions {
		users[s["user"].(string)] = s
	}
	if s := users["alice"]; s == nil || s["bytes_in"] != float64(9) || s["bytes_out"] != float64(2) || s["transport"] != "tcp" ||
		s["session"] != sessionIDOf(t, a.use) || s["keepalive"].(map[string]any)["mode"] != "send" || s["idle"] == nil {
		t.Errorf("alice's entry %v", s)
	}
	if s := users["bob"]; s == nil || s["bytes_in"] != float64(2) || s["bytes_out"] != float64(9) {
		t.Errorf("bob's entry %v", s)
	}

	ids := map[string]bool{}
	for i := range 2 {
		id := fmt.Sprintf("inflight-%d", i)
		ids[id] = true
		m := req("SEND", a.use+" "+b.use+" "+b.uri, a.uri, "Message-ID", id, "Byte-Range", "1-3/3", "Content-Type", "text/plain")
		m.Body = []byte("abc")
		a.send(m)
		b.next() // not answered
		if r := a.next(); r.StatusCode != 200 {
			t.Fatalf("in-flight SEND: %d", r.StatusCode)
		}
	}
	if code, _ := httpDo(t, "DELETE", base+"/sessions/"+sessionIDOf(t, b.use)+"?reason=testing+DELETE"); code != 204 {
		t.Fatalf("DELETE: %d, want 204", code)
	}
	d.waitLog("admin-close (testing DELETE")
	b.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := b.r.ReadMessage(1 << 20); err == nil {
		t.Error("bob's connection still open after DELETE")
	}
	for range 2 {
		rep := a.next()
		st, err := rep.Status()
		if rep.Method != "REPORT" || err != nil || st.Code != 408 || !ids[rep.MessageID()] {
			t.Fatalf("alice got %s %q for %q, want a failure REPORT", rep.Method, rep.Header("Status"), rep.MessageID())
		}
		delete(ids, rep.MessageID())
	}
	if _, body := httpDo(t, "GET", base+"/sessions"); strings.Count(body, `"user"`) != 1 || !strings.Contains(body, `"failure_reports": 2`) {
		t.Errorf("GET /sessions after DELETE: want alice's session alone, with 2 failure REPORTs\n%s", body)
	}
	if code, _ := httpDo(t, "DELETE", base+"/sessions/"+sessionIDOf(t, b.use)); code != 404 {
		t.Errorf("DELETE of a closed session: %d, want 404", code)
	}
}

// TestDaemonReloadsCertificateOnSIGHUP: after SIGHUP new TLS clients see
// the new certificate, a connection made before keeps working, and a
// reload that fails keeps the certificate in use.
func TestDaemonReloadsCertificateOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	certFile, keyFile, _ := ca.WriteFiles(dir, ca.Issue("relay.test"), "relay")
	d := startDaemon(t, 1, "--tls", "127.0.0.1:0", "--cert", certFile, "--key", keyFile, "--user", "alice:alicepw", "--realm", "test")
	dialTLS := func() (*tls.Conn, string) {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", d.addrs["tls"],
			&tls.Config{RootCAs: ca.Pool, ServerName: "relay.test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before, serial1 := dialTLS()

	next := ca.Issue("relay.test")
	os.WriteFile(certFile, next.CertPEM, 0o600)
	os.WriteFile(keyFile, next.KeyPEM, 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	if line := d.waitLog("SIGHUP: reloaded certificate"); !strings.Contains(line, "relay.test") {
		t.Errorf("reload line %q does not describe the certificate", line)
	}
	_, serial2 := dialTLS()
	if serial2 == serial1 {
		t.Fatalf("a new client still sees certificate %s after the reload", serial1)
	}
	// The connection made before still carries MSRP.
	old := &rawClient{t: t, conn: before, r: msrp.NewReader(before, 0), uri: "msrps://x.invalid:1/old;tcp", via: "msrps://" + d.addrs["tls"] + ";tcp"}
	old.send(req("AUTH", old.via, old.uri))
	if r := old.next(); r.StatusCode != 401 {
		t.Errorf("AUTH on the connection made before the reload: %d, want 401", r.StatusCode)
	}

	os.WriteFile(certFile, []byte("not a certificate"), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog("new TLS handshakes keep the previous certificate")
	if _, serial3 := dialTLS(); serial3 != serial2 {
		t.Errorf("after a failed reload the certificate changed: %s, want %s", serial3, serial2)
	}
}

// TestExampleEnvironmentFile: contrib/msrpd.env names every flag's
// variable, and nothing else, so the example follows the flags.
func TestExampleEnvironmentFile(t *testing.T) {
	raw, err := os.ReadFile("../../contrib/msrpd.env")
	if err != nil {
		t.Fatal(err)
	}
	inFile := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		name, _, ok := strings.Cut(strings.TrimPrefix(line, "#"), "=")
		if ok && strings.HasPrefix(name, "MSRPD_") {
			inFile[name] = true
		}
	}
	for _, f := range flags() {
		v := env(f.Names()[0])[0]
		if !inFile[v] {
			t.Errorf("contrib/msrpd.env lacks %s", v)
		}
		delete(inFile, v)
	}
	for v := range inFile {
		t.Errorf("contrib/msrpd.env has %s, which is no flag's", v)
	}
}

// TestDaemonCountsTLSFailures: a plain-text client on the TLS listener
// and one on the WSS listener each count as a failed TLS handshake, and a
// TLS client that completes its handshake does not.
func TestDaemonCountsTLSFailures(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	certFile, keyFile, _ := ca.WriteFiles(dir, ca.Issue("relay.test"), "relay")
	d := startDaemon(t, 2, "--tls", "127.0.0.1:0", "--wss", "127.0.0.1:0", "--cert", certFile, "--key", keyFile,
		"--user", "alice:alicepw", "--realm", "test", "--metrics-addr", "127.0.0.1:0")
	for _, addr := range []string{d.addrs["tls"], d.addrs["wss"]} {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c) // until the relay closes it
		c.Close()
	}
	good, err := tls.Dial("tcp", d.addrs["tls"], &tls.Config{RootCAs: ca.Pool, ServerName: "relay.test"})
	if err != nil {
		t.Fatal(err)
	}
	good.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := httpDo(t, "GET", "http://"+d.ops["metrics"]+"/metrics")
		if strings.Contains(body, "\nmsrpd_tls_handshake_failures_total 2\n") {
			break
		}
		if time.Now().After(deadline) {
			i := strings.LastIndex(body, "msrpd_tls_handshake_failures_total ")
			t.Fatalf("want msrpd_tls_handshake_failures_total 2, have %q", body[i:i+40])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
