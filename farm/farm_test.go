package farm

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/dnstest"
	"github.com/msrpd/msrpd/internal/sqltest"
	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/srv"
)

const domain = "farm.test"

// binDir holds the msrpd that msrpdBinary builds; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// msrpdBinary builds msrpd once per test binary.
var msrpdBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "msrpd-farm")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "msrpd")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/msrpd").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build msrpd: %v\n%s", err, out)
	}
	return bin, nil
})

var listenRe = regexp.MustCompile(`listening (\w+) on ([0-9.:]+);`)

// member is one msrpd of the farm.
type member struct {
	name    string // r1.farm.test
	ip      string
	cmd     *exec.Cmd
	tls, ws string // host:port
	mu      sync.Mutex
	log     strings.Builder
	exited  chan struct{}
}

func (m *member) logText() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.String()
}

// startMember runs msrpd for relay n on 127.0.0.n: TLS (relays and
// clients) and WebSocket listeners, the farm's domain, users from db.
func startMember(t *testing.T, n int, ca *testpki.CA, dir, dsn, dns string) *member {
	t.Helper()
	bin, err := msrpdBinary()
	if err != nil {
		t.Fatal(err)
	}
	m := &member{name: fmt.Sprintf("r%d.%s", n, domain), ip: fmt.Sprintf("127.0.0.%d", n), exited: make(chan struct{})}
	cert, key, caFile := ca.WriteFiles(dir, ca.Issue(m.name), fmt.Sprintf("r%d", n))
	m.cmd = exec.Command(bin,
		"--tls", m.ip+":0", "--ws", m.ip+":0",
		"--cert", cert, "--key", key, "--client-ca", caFile,
		"--host", m.name, "--realm", domain, "--domain", domain,
		"--users-db", dsn, "--dns", dns,
		"--outbound-allow", "127.0.0.0/8",
		"--web=false", "--log-level", "info")
	stderr, err := m.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.cmd.Process.Kill()
		<-m.exited
		if t.Failed() {
			t.Logf("%s log:\n%s", m.name, m.logText())
		}
	})
	addrs := make(chan [2]string, 4)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			m.mu.Lock()
			m.log.WriteString(line + "\n")
			m.mu.Unlock()
			if l := listenRe.FindStringSubmatch(line); l != nil {
				addrs <- [2]string{l[1], l[2]}
			}
		}
		io.Copy(io.Discard, stderr)
		m.cmd.Wait()
		close(m.exited)
	}()
	timeout := time.After(20 * time.Second)
	for m.tls == "" || m.ws == "" {
		select {
		case a := <-addrs:
			if a[0] == "tls" {
				m.tls = a[1]
			} else if a[0] == "ws" {
				m.ws = a[1]
			}
		case <-m.exited:
			t.Fatalf("%s exited:\n%s", m.name, m.logText())
		case <-timeout:
			t.Fatalf("%s did not start:\n%s", m.name, m.logText())
		}
	}
	return m
}

func (m *member) port() string { _, p, _ := net.SplitHostPort(m.tls); return p }

// client is an endpoint with its events and messages.
type client struct {
	*endpoint.Endpoint
	name   string
	events chan endpoint.Event
	failed chan string // Message-IDs of failure REPORTs after their 200
	msgs   chan *endpoint.Message
}

func dialClient(t *testing.T, name, user, pass string, ca *testpki.CA, res srv.Resolver, relays ...string) *client {
	t.Helper()
	c := &client{name: name, events: make(chan endpoint.Event, 64), failed: make(chan string, 1024), msgs: make(chan *endpoint.Message, 1024)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := endpoint.Dial(ctx, endpoint.Config{
		Relay: relays[0], Relays: relays[1:], Resolver: res,
		User: user, Password: pass,
		TLSConfig:         &tls.Config{RootCAs: ca.Pool},
		ReconnectAttempts: 5, BackoffInitial: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		ChunkTimeout: 5 * time.Second, ReportTimeout: 2 * time.Second, Keepalive: keepalive.Config{Interval: -1},
		OnMessage: func(m *endpoint.Message) { c.msgs <- m },
		OnEvent: func(ev endpoint.Event) {
			if ev.Kind == endpoint.EventFailureReport {
				var se *endpoint.StatusError
				if errors.As(ev.Err, &se) {
					c.failed <- se.MessageID
				}
				return
			}
			c.events <- ev
		},
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelError},
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c.Endpoint = e
	t.Cleanup(func() { e.Close() })
	return c
}

// chat sends text from a to b's current path and waits for it at b.
func chat(t *testing.T, a, b *client, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Send(ctx, a.PathTo(b.Path()), "text/plain", []byte(text)); err != nil {
		t.Fatalf("%s -> %s %q: %v", a.name, b.name, text, err)
	}
	for {
		select {
		case m := <-b.msgs:
			if string(m.Body) == text {
				return
			}
		case <-ctx.Done():
			t.Fatalf("%s -> %s: %q did not arrive", a.name, b.name, text)
		}
	}
}

func waitEvent(t *testing.T, c *client, kind endpoint.EventKind) endpoint.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-c.events:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("%s: no %v event", c.name, kind)
		}
	}
}

// TestFarm: three relays, one PostgreSQL, one DNS zone. alice (WebSocket
// on r1), bob (TLS, found through the SRV records: r2 first) and carol
// (TLS on r3) chat both ways across relays. Then r2 is killed (SIGKILL)
// while alice and bob stream messages to each other: every message is
// delivered, or its sender learns that it failed (an error response, a
// failure REPORT, a report timeout or its lost connection), never
// neither; bob comes back through the SRV records on r3, and the chat
// goes on; alice's and carol's sessions never notice.
func TestFarm(t *testing.T) {
	db := sqltest.Postgres(t)
	for _, u := range []struct{ name, password, ha1 string }{
		{"alice", "", relay.HA1("alice", domain, "pw-alice")},
		{"bob", "pw-bob", ""},
		{"carol", "", relay.HA1("carol", domain, "pw-carol")},
	} {
		db.Exec("INSERT INTO subscriber (username, domain, password, ha1) VALUES ($1, $2, $3, $4)", u.name, domain, u.password, u.ha1)
	}
	dns := dnstest.Start(t)
	ca := testpki.NewCA(t)
	dir := t.TempDir()
	var rs [4]*member
	for n := 1; n <= 3; n++ {
		rs[n] = startMember(t, n, ca, dir, db.DSN, dns.Addr)
		dns.Add(fmt.Sprintf("%s. 60 IN A %s", rs[n].name, rs[n].ip))
	}
	// bob's lookups find r2 first, then r3, then r1.
	for n, prio := range map[int]int{2: 10, 3: 20, 1: 30} {
		dns.Add(fmt.Sprintf("_msrps._tcp.%s. 60 IN SRV %d 10 %s %s.", domain, prio, rs[n].port(), rs[n].name))
	}
	res := srv.New(srv.Config{Server: dns.Addr})

	alice := dialClient(t, "alice", "alice", "pw-alice", ca, res, "ws://"+rs[1].ws+"/", "ws://"+rs[3].ws+"/")
	bob := dialClient(t, "bob", "bob", "pw-bob", ca, res, "msrps://"+domain+";tcp")
	carol := dialClient(t, "carol", "carol", "pw-carol", ca, res, "msrps://"+rs[3].name+":"+rs[3].port()+";tcp")
	for c, want := range map[*client]string{alice: rs[1].name, bob: rs[2].name, carol: rs[3].name} {
		if !strings.Contains(c.UsePath(), want) {
			t.Fatalf("%s: Use-Path %s, want one on %s", c.name, c.UsePath(), want)
		}
	}
	if _, err := tryDial(ca, res, "bob", "pw-alice"); !errors.Is(err, endpoint.ErrAuth) {
		t.Errorf("bob with a wrong password: %v, want ErrAuth", err)
	}
	for i, pair := range [][2]*client{{alice, bob}, {bob, alice}, {alice, carol}, {carol, alice}, {bob, carol}, {carol, bob}} {
		chat(t, pair[0], pair[1], fmt.Sprintf("hello %d from %s", i, pair[0].name))
	}
	alicePath, carolPath := alice.UsePath(), carol.UsePath()

	// alice and bob stream to each other while r2 dies.
	var mu sync.Mutex
	bobPath := bob.Path()
	toBob := &stream{from: alice, to: bob, name: "a2b", path: func() string {
		mu.Lock()
		defer mu.Unlock()
		return alice.PathTo(bobPath)
	}}
	toAlice := &stream{from: bob, to: alice, name: "b2a", path: func() string { return bob.PathTo(alice.Path()) }}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range []*stream{toBob, toAlice} {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(stop) }()
	}
	time.Sleep(200 * time.Millisecond)
	rs[2].cmd.Process.Kill() // SIGKILL
	<-rs[2].exited
	waitEvent(t, bob, endpoint.EventDisconnected)
	ev := waitEvent(t, bob, endpoint.EventReconnected)
	if !strings.Contains(ev.UsePath, rs[3].name) {
		t.Fatalf("bob came back with Use-Path %s, want one on %s (the next SRV target)", ev.UsePath, rs[3].name)
	}
	mu.Lock()
	bobPath = bob.Path() // as a SIP re-INVITE would tell alice
	mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	// Account for every message: delivered, or its sender knows it failed.
	for _, s := range []*stream{toBob, toAlice} {
		s.check(t)
	}
	// The chat goes on over bob's new path. (Not the streams' last
	// messages: one may have left for bob's old path just before the kill
	// and waited out its report timeout after the reconnect.)
	chat(t, alice, bob, "after the reconnect, to bob")
	chat(t, bob, alice, "after the reconnect, to alice")

	// The chat goes on: bob on r3 with alice on r1 and carol on r3.
	for i, pair := range [][2]*client{{alice, bob}, {bob, alice}, {bob, carol}, {carol, bob}, {alice, carol}, {carol, alice}} {
		chat(t, pair[0], pair[1], fmt.Sprintf("after %d from %s", i, pair[0].name))
	}
	if alice.UsePath() != alicePath || carol.UsePath() != carolPath {
		t.Errorf("the survivors' sessions changed: alice %s -> %s, carol %s -> %s", alicePath, alice.UsePath(), carolPath, carol.UsePath())
	}
	for _, c := range []*client{alice, carol} {
		for len(c.events) > 0 {
			if ev := <-c.events; ev.Kind != endpoint.EventConnected {
				t.Errorf("%s: event %v (%v) though its relay lives", c.name, ev.Kind, ev.Err)
			}
		}
	}
	for _, n := range []int{1, 3} {
		if l := rs[n].logText(); strings.Contains(l, "panic") || strings.Contains(l, " ERROR") {
			t.Errorf("%s logged errors:\n%s", rs[n].name, l)
		}
	}
}

// stream sends numbered messages from one client to another until
// stopped, each asking for a success REPORT, and notes each outcome.
type stream struct {
	from, to *client
	name     string
	path     func() string
	outcomes []outcome
}

type outcome struct {
	id  string
	err error
}

func (s *stream) run(stop chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		id := fmt.Sprintf("%s-%d", s.name, i)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.from.SendWith(ctx, s.path(), "text/plain", []byte(id), endpoint.SendOptions{MessageID: id, SuccessReport: true})
		cancel()
		s.outcomes = append(s.outcomes, outcome{id, err})
		time.Sleep(2 * time.Millisecond)
	}
}

// check sorts the outcomes: a message whose send succeeded (its success
// REPORT came) must have arrived; every other one failed in a way its
// sender saw: an error response, a failure REPORT from a relay that had
// answered it 200, a report timeout (a chunk the killed relay had
// acknowledged hop by hop died with it: only the success REPORT it asked
// for can tell, RFC 4976 section 6.4.1), or the loss of its own
// connection. None may be lost silently. check also wants failures (the
// relay died with messages in flight, or they were sent to its dead
// Use-Paths).
func (s *stream) check(t *testing.T) {
	t.Helper()
	delivered := map[string]bool{}
	settle := time.After(3 * time.Second)
	missing := func() bool {
		for _, o := range s.outcomes {
			if o.err == nil && !delivered[o.id] {
				return true
			}
		}
		return false
	}
collect:
	for missing() {
		select {
		case m := <-s.to.msgs:
			delivered[string(m.Body)] = true
		case <-settle:
			break collect
		}
	}
	var ok, response, report, timeout, conn int
	for _, o := range s.outcomes {
		var se *endpoint.StatusError
		switch {
		case o.err == nil && delivered[o.id]:
			ok++
		case o.err == nil:
			t.Errorf("message %s: its success REPORT came, yet it never arrived", o.id)
		case errors.As(o.err, &se) && se.Report:
			report++
		case errors.As(o.err, &se):
			response++
		case errors.Is(o.err, endpoint.ErrTimeout):
			timeout++
		default:
			conn++
		}
	}
	t.Logf("%s -> %s: %d messages: %d delivered; failed: %d by error response, %d by failure REPORT, %d by report timeout, %d by the sender's lost connection",
		s.from.name, s.to.name, len(s.outcomes), ok, response, report, timeout, conn)
	if ok == len(s.outcomes) {
		t.Errorf("%s -> %s: no message failed: r2 died with nothing in flight, the test proves nothing", s.from.name, s.to.name)
	}
}

func tryDial(ca *testpki.CA, res srv.Resolver, user, pass string) (*endpoint.Endpoint, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return endpoint.Dial(ctx, endpoint.Config{Relay: "msrps://" + domain + ";tcp", Resolver: res, User: user, Password: pass,
		TLSConfig: &tls.Config{RootCAs: ca.Pool}, Keepalive: keepalive.Config{Interval: -1},
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelError}})
}
