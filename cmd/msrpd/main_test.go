package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/msrp"
)

var msrpdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "msrpd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	msrpdBin = filepath.Join(dir, "msrpd")
	if out, err := exec.Command("go", "build", "-o", msrpdBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build msrpd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running msrpd process.
type daemon struct {
	t     *testing.T
	cmd   *exec.Cmd
	addrs map[string]string // listener kind -> address, from the startup log
	ops   map[string]string // "metrics", "sessions" -> the operator listener's address
	log   *lockedLines
	done  chan error
}

type lockedLines struct {
	ch  chan string
	all strings.Builder
}

var (
	listenLine = regexp.MustCompile(`listening (\w+) on ([0-9.:\[\]]+);`)
	opsLine    = regexp.MustCompile(`(metrics|sessions) on http://([0-9.:\[\]]+)/`)
)

// startDaemon runs msrpd with args and waits until every listener is up.
func startDaemon(t *testing.T, listeners int, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(msrpdBin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cmd: cmd, addrs: map[string]string{}, ops: map[string]string{}, log: &lockedLines{ch: make(chan string, 1000)}, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case d.log.ch <- sc.Text():
			default:
			}
		}
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	deadline := time.After(10 * time.Second)
	for len(d.addrs) < listeners {
		select {
		case line := <-d.log.ch:
			if m := listenLine.FindStringSubmatch(line); m != nil {
				d.addrs[m[1]] = m[2]
			}
			if m := opsLine.FindStringSubmatch(line); m != nil {
				d.ops[m[1]] = m[2]
				if strings.Contains(line, "sessions on /sessions") {
					d.ops["sessions"] = m[2]
				}
			}
		case <-deadline:
			t.Fatalf("msrpd did not start: have %v", d.addrs)
		}
	}
	return d
}

// rawClient is an MSRP endpoint over plain TCP built only on the msrp
// package, so this test sees msrpd from outside.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *msrp.Reader
	uri  string
	via  string
	use  string
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, conn: c, r: msrp.NewReader(c, 0),
		uri: "msrp://" + msrp.NewTransactionID() + ".invalid:2855/" + msrp.NewTransactionID() + ";tcp",
		via: "msrp://" + addr + ";tcp"}
}

func (c *rawClient) send(m *msrp.Message) {
	c.t.Helper()
	b, err := m.AppendTo(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) next() *msrp.Message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := c.r.ReadMessage(1 << 20)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

func req(method, to, from string, hdrs ...string) *msrp.Message {
	m := &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: method,
		Headers: []msrp.Header{{Name: "To-Path", Value: to}, {Name: "From-Path", Value: from}}}
	for i := 0; i+1 < len(hdrs); i += 2 {
		m.Headers = append(m.Headers, msrp.Header{Name: hdrs[i], Value: hdrs[i+1]})
	}
	return m
}

// authorization answers a 401's Digest challenge (its WWW-Authenticate
// value) for user and pass, as a client AUTHing to uri does.
func authorization(t *testing.T, challenge, user, pass, uri string) string {
	t.Helper()
	ch, err := digest.Parse(challenge)
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	c, err := digest.Answer(ch, user, pass, "AUTH", uri, 1, "c0ffee")
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	return c.Header
}

func (c *rawClient) auth(user, pass string) {
	c.t.Helper()
	c.send(req("AUTH", c.via, c.uri))
	r := c.next()
	c.send(req("AUTH", c.via, c.uri, "Authorization", authorization(c.t, r.WWWAuthenticate(), user, pass, c.via)))
	if r = c.next(); r.StatusCode != 200 {
		c.t.Fatalf("AUTH: %d %s", r.StatusCode, r.Comment)
	}
	c.use = r.Header("Use-Path")
}

// exchange sends text from a to b along to and checks it arrives and is
// acknowledged.
func exchange(t *testing.T, a, b *rawClient, to, text string) {
	t.Helper()
	m := req("SEND", to, a.uri, "Message-ID", msrp.NewMessageID(), "Byte-Range", fmt.Sprintf("1-%d/%d", len(text), len(text)), "Content-Type", "text/plain")
	m.Body = []byte(text)
	a.send(m)
	got := b.next()
	if got.Method != "SEND" || string(got.Body) != text {
		t.Fatalf("received %s %q, want SEND %q", got.Method, got.Body, text)
	}
	b.send(got.Response(200, "OK"))
	if r := a.next(); r.StatusCode != 200 {
		t.Fatalf("sender got %d", r.StatusCode)
	}
}

func (d *daemon) stop(timeout time.Duration) {
	d.t.Helper()
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("msrpd exited with %v", err)
		}
		if time.Since(start) > timeout {
			d.t.Errorf("msrpd took %v to stop, shutdown timeout %v", time.Since(start), timeout)
		}
	case <-time.After(timeout + 5*time.Second):
		d.t.Fatalf("msrpd still running %v after SIGTERM", timeout+5*time.Second)
	}
}

func TestDaemonServesChatAndStopsOnSIGTERM(t *testing.T) {
	d := startDaemon(t, 2, "--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0",
		"--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "test", "--shutdown-timeout", "2s")
	a, b := dialRaw(t, d.addrs["tcp"]), dialRaw(t, d.addrs["tcp"])
	a.auth("alice", "alicepw")
	b.auth("bob", "bobpw")
	for i := 0; i < 10; i++ {
		exchange(t, a, b, a.use+" "+b.use+" "+b.uri, fmt.Sprintf("hello %d", i))
		exchange(t, b, a, b.use+" "+a.use+" "+a.uri, fmt.Sprintf("reply %d", i))
	}
	d.stop(2 * time.Second)
}

func TestDaemonFlagsFromEnvironment(t *testing.T) {
	cmd := exec.Command(msrpdBin, "--tcp", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "MSRPD_KEEPALIVE=bogus")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bogus") {
		t.Fatalf("MSRPD_KEEPALIVE=bogus: err %v, output %q; want a refusal naming the value", err, out)
	}
}

func TestTwoDaemonsChainedOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	c1, k1, caFile := ca.WriteFiles(dir, ca.Issue("relay1.test"), "r1")
	c2, k2, _ := ca.WriteFiles(dir, ca.Issue("relay2.test"), "r2")
	common := []string{"--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "test", "--client-ca", caFile, "--host", "127.0.0.1",
		"--outbound-allow", "127.0.0.0/8"}
	r1 := startDaemon(t, 2, append([]string{"--tls", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--cert", c1, "--key", k1}, common...)...)
	r2 := startDaemon(t, 2, append([]string{"--tls", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--cert", c2, "--key", k2}, common...)...)
	a, b := dialRaw(t, r1.addrs["tcp"]), dialRaw(t, r2.addrs["tcp"])
	a.auth("alice", "alicepw")
	b.auth("bob", "bobpw")
	if !strings.HasPrefix(a.use, "msrps://") || !strings.HasPrefix(b.use, "msrps://") {
		t.Fatalf("Use-Paths %q, %q: want msrps (the relays talk TLS)", a.use, b.use)
	}
	for i := 0; i < 5; i++ {
		exchange(t, a, b, a.use+" "+b.use+" "+b.uri, fmt.Sprintf("a->b %d", i))
		exchange(t, b, a, b.use+" "+a.use+" "+a.uri, fmt.Sprintf("b->a %d", i))
	}
	r1.stop(10 * time.Second)
	r2.stop(10 * time.Second)
}

// TestTwoDaemonsChainedOverPlainTCP: by default msrpd refuses to dial a
// plain msrp next hop on loopback (403, with a log line naming the user,
// the target and the rule); --outbound-allow 127.0.0.0/8 --outbound-plain
// admits the chain.
func TestTwoDaemonsChainedOverPlainTCP(t *testing.T) {
	common := []string{"--user", "alice:alicepw", "--user", "bob:bobpw", "--realm", "test", "--host", "127.0.0.1"}
	chain := []string{"--tcp", "127.0.0.1:0", "--outbound-allow", "127.0.0.0/8", "--outbound-plain"}
	r2 := startDaemon(t, 1, append(chain, common...)...)
	b := dialRaw(t, r2.addrs["tcp"])
	b.auth("bob", "bobpw")

	strict := startDaemon(t, 1, append([]string{"--tcp", "127.0.0.1:0"}, common...)...)
	a := dialRaw(t, strict.addrs["tcp"])
	a.auth("alice", "alicepw")
	m := req("SEND", a.use+" "+b.use+" "+b.uri, a.uri, "Message-ID", "m1", "Byte-Range", "1-2/2", "Content-Type", "text/plain")
	m.Body = []byte("hi")
	a.send(m)
	if r := a.next(); r.StatusCode != 403 {
		t.Fatalf("default policy: %d %s, want 403", r.StatusCode, r.Comment)
	}
	deadline := time.After(5 * time.Second)
	for logged := false; !logged; {
		select {
		case line := <-strict.log.ch:
			logged = strings.Contains(line, `user "alice"`) && strings.Contains(line, b.use) && strings.Contains(line, "plain msrp")
		case <-deadline:
			t.Fatal("no log line names the user, the next hop and the rule")
		}
	}

	r1 := startDaemon(t, 1, append(chain, common...)...)
	a = dialRaw(t, r1.addrs["tcp"])
	a.auth("alice", "alicepw")
	for i := 0; i < 5; i++ {
		exchange(t, a, b, a.use+" "+b.use+" "+b.uri, fmt.Sprintf("a->b %d", i))
		exchange(t, b, a, b.use+" "+a.use+" "+a.uri, fmt.Sprintf("b->a %d", i))
	}
}

// TestActivePeerThroughTwoDaemons: an endpoint that does no AUTH and
// does not listen connects to R2 and chats both ways with alice, a
// client of R1 and through R1 of R2. Only R1 may dial (R2 on loopback);
// R2 answers the endpoint over the connection it opened.
func TestActivePeerThroughTwoDaemons(t *testing.T) {
	common := []string{"--user", "alice:alicepw", "--realm", "test", "--host", "127.0.0.1"}
	r1 := startDaemon(t, 1, append([]string{"--tcp", "127.0.0.1:0", "--outbound-allow", "127.0.0.0/8", "--outbound-plain"}, common...)...)
	r2 := startDaemon(t, 1, append([]string{"--tcp", "127.0.0.1:0"}, common...)...)
	a := dialRaw(t, r1.addrs["tcp"])
	a.auth("alice", "alicepw")
	use2 := a.authThrough("msrp://"+r2.addrs["tcp"]+";tcp", "alice", "alicepw")
	c := dialRaw(t, r2.addrs["tcp"])
	c.uri = "msrp://" + c.conn.LocalAddr().String() + "/active;tcp"
	if l, err := net.DialTimeout("tcp", c.conn.LocalAddr().String(), time.Second); err == nil {
		l.Close()
		t.Fatal("something listens at the endpoint's URI")
	}
	for i := 0; i < 5; i++ {
		exchange(t, c, a, use2+" "+a.use+" "+a.uri, fmt.Sprintf("c->a %d", i))
		exchange(t, a, c, a.use+" "+use2+" "+c.uri, fmt.Sprintf("a->c %d", i))
	}
}

// authThrough AUTHs to relay through the relay c is a client of and
// returns the Use-Path it grants.
func (c *rawClient) authThrough(relay, user, pass string) string {
	c.t.Helper()
	to := c.use + " " + relay
	c.send(req("AUTH", to, c.uri))
	r := c.next()
	c.send(req("AUTH", to, c.uri, "Authorization", authorization(c.t, r.WWWAuthenticate(), user, pass, relay)))
	if r = c.next(); r.StatusCode != 200 {
		c.t.Fatalf("AUTH through %s: %d %s", c.use, r.StatusCode, r.Comment)
	}
	return r.Header("Use-Path")
}

func htdigestLine(user, realm, pass string) string {
	return user + ":" + realm + ":" + digest.HA1(user, realm, pass) + "\n"
}

func TestDaemonReloadsUsersFileOnSIGHUP(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("# test users\n"+htdigestLine("carol", "test", "carolpw")), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, 1, "--tcp", "127.0.0.1:0", "--users-file", users, "--realm", "test")
	dialRaw(t, d.addrs["tcp"]).auth("carol", "carolpw")

	if err := os.WriteFile(users, []byte(htdigestLine("dave", "test", "davepw")), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.After(5 * time.Second)
	for reloaded := false; !reloaded; {
		select {
		case line := <-d.log.ch:
			reloaded = strings.Contains(line, "SIGHUP: reloaded")
		case <-deadline:
			t.Fatal("no reload logged after SIGHUP")
		}
	}
	dialRaw(t, d.addrs["tcp"]).auth("dave", "davepw")
	// carol is gone: her AUTH is challenged again.
	c := dialRaw(t, d.addrs["tcp"])
	c.send(req("AUTH", c.via, c.uri))
	ch := c.next()
	c.send(req("AUTH", c.via, c.uri, "Authorization", authorization(t, ch.WWWAuthenticate(), "carol", "carolpw", c.via)))
	if r := c.next(); r.StatusCode != 401 {
		t.Fatalf("carol after the reload: %d, want 401", r.StatusCode)
	}
}

// The timeout flags reach the relay: a chunk header that stalls is closed
// after --header-timeout, a TCP connection that never starts its
// WebSocket handshake after --handshake-timeout, and a bad value is
// refused at startup.
func TestDaemonTimeoutFlags(t *testing.T) {
	d := startDaemon(t, 2, "--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--user", "alice:alicepw",
		"--header-timeout", "300ms", "--handshake-timeout", "300ms")
	for _, tc := range []struct{ name, addr, send string }{
		{"header", d.addrs["tcp"], "MSRP abcd1234 AUTH\r\nTo-Path: msrp"},
		{"handshake", d.addrs["ws"], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, tc.addr)
			c.conn.Write([]byte(tc.send))
			start := time.Now()
			c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := io.Copy(io.Discard, c.conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("still open after %v", time.Since(start))
			}
			if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
				t.Errorf("closed after %v, want about 300ms", d)
			}
		})
	}
	out, err := exec.Command(msrpdBin, "--tcp", "127.0.0.1:0", "--handshake-timeout", "0s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--handshake-timeout") {
		t.Errorf("--handshake-timeout 0s: err %v, output %q; want a refusal", err, out)
	}
}

// TestDaemonServesChatPage checks that msrpd serves the chat page on its
// WebSocket listener, with its CSP, and that --web=false turns it off.
func TestDaemonServesChatPage(t *testing.T) {
	for _, off := range []bool{false, true} {
		args := []string{"--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--user", "alice:alicepw"}
		if off {
			args = append(args, "--web=false")
		}
		d := startDaemon(t, 2, args...)
		resp, err := http.Get("http://" + d.addrs["ws"] + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case off && resp.StatusCode != http.StatusNotFound:
			t.Errorf("--web=false: GET / = %d, want 404", resp.StatusCode)
		case !off && (resp.StatusCode != 200 || !strings.Contains(string(body), `id="my-path"`) ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'")):
			t.Errorf("GET / = %d, CSP %q, %d bytes; want the chat page", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), len(body))
		}
	}
}
