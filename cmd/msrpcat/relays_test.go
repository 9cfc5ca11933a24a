package main

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/dnstest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
)

// farmRelay is a relay of domain farm.test that a test can stop.
type farmRelay struct {
	tcp, port string
	stop      func()
}

func newFarmRelay(t *testing.T) *farmRelay {
	t.Helper()
	creds := relay.NewMemoryCredentials()
	creds.Add("alice", "farm.test", "pa")
	creds.Add("bob", "farm.test", "pb")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := relay.New(relay.Config{
		Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Realm: "farm.test", Credentials: creds,
		Domains:       []relay.Domain{{Name: "farm.test"}},
		Outbound:      relay.OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true},
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: lockedWriter{&sync.Mutex{}, &strings.Builder{}}},
		Transport:     transport.Config{Keepalive: keepalive.Config{Interval: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.ServeTCP(l); close(done) }()
	var once sync.Once
	r := &farmRelay{tcp: "msrp://" + l.Addr().String() + ";tcp"}
	_, r.port, _ = net.SplitHostPort(l.Addr().String())
	r.stop = func() { once.Do(func() { srv.Close(); <-done }) }
	t.Cleanup(r.stop)
	return r
}

// msrpcat listen --relay msrp://farm.test;tcp finds its relay through the
// SRV records of --dns, and when that relay goes away AUTHs with the
// next one, prints the new path and goes on receiving.
func TestListenFailsOverThroughSRV(t *testing.T) {
	r1, r2 := newFarmRelay(t), newFarmRelay(t)
	d := dnstest.Start(t)
	d.Add("_msrp._tcp.farm.test. 60 IN SRV 10 0 "+r1.port+" r1.farm.test.",
		"_msrp._tcp.farm.test. 60 IN SRV 20 0 "+r2.port+" r2.farm.test.",
		"r1.farm.test. 60 IN A 127.0.0.1", "r2.farm.test. 60 IN A 127.0.0.1")
	cmd := exec.Command(msrpcatBin, "listen", "--relay", "msrp://farm.test;tcp", "--dns", d.Addr, "--user", "bob:pb", "--reconnect-attempts", "3")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	out, errs := lines(stdout), lines(stderr)
	path := nextLine(t, out)
	if !strings.Contains(path, ":"+r1.port+"/") {
		t.Fatalf("path %q: want one on r1 (port %s), the first SRV target", path, r1.port)
	}
	if _, e, code := run(t, "", "send", "--relay", r2.tcp, "--relay-uri", "msrp://farm.test;tcp", "--user", "alice:pa", "--to", path, "via r1"); code != 0 {
		t.Fatalf("send: %s", e)
	}
	if got := nextLine(t, out); got != "via r1" {
		t.Fatalf("got %q", got)
	}
	r1.stop()
	var newPath string
	for newPath == "" {
		line := nextLine(t, errs)
		if _, p, ok := strings.Cut(line, "reconnected; new path: "); ok {
			newPath = p
		}
	}
	if !strings.Contains(newPath, ":"+r2.port+"/") {
		t.Fatalf("new path %q: want one on r2 (port %s)", newPath, r2.port)
	}
	if _, e, code := run(t, "", "send", "--relay", r2.tcp, "--relay", r1.tcp, "--user", "alice:pa", "--relay-uri", "msrp://farm.test;tcp", "--to", newPath, "via r2"); code != 0 {
		t.Fatalf("send: %s", e)
	}
	if got := nextLine(t, out); got != "via r2" {
		t.Fatalf("got %q", got)
	}
}

func lines(r interface{ Read([]byte) (int, error) }) chan string {
	ch := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

func nextLine(t *testing.T, ch chan string) string {
	t.Helper()
	select {
	case s, ok := <-ch:
		if !ok {
			t.Fatal("msrpcat ended")
		}
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("no line from msrpcat")
	}
	return ""
}
