package main

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/dnstest"
	"github.com/msrpd/msrpd/internal/relaytest"
	"github.com/msrpd/msrpd/relay"
)

// newFarmRelay starts a relay of domain farm.test with a TCP listener.
func newFarmRelay(t *testing.T) *relaytest.Relay {
	t.Helper()
	return relaytest.Start(t, relaytest.Options{
		WSAddr: "-",
		Realm:  "farm.test",
		Users:  map[string]string{"alice": "pa", "bob": "pb"},
		Config: func(c *relay.Config) {
			c.Domains = []relay.Domain{{Name: "farm.test"}}
			c.Outbound = relay.OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}
		},
	})
}

// port is the port of a relay's TCP listener.
func port(r *relaytest.Relay) string {
	_, p, _ := net.SplitHostPort(r.TCPAddr)
	return p
}

// msrpcat listen --relay msrp://farm.test;tcp finds its relay through the
// SRV records of --dns, and when that relay goes away AUTHs with the
// next one, prints the new path and goes on receiving.
func TestListenFailsOverThroughSRV(t *testing.T) {
	r1, r2 := newFarmRelay(t), newFarmRelay(t)
	d := dnstest.Start(t)
	d.Add("_msrp._tcp.farm.test. 60 IN SRV 10 0 "+port(r1)+" r1.farm.test.",
		"_msrp._tcp.farm.test. 60 IN SRV 20 0 "+port(r2)+" r2.farm.test.",
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
	if !strings.Contains(path, ":"+port(r1)+"/") {
		t.Fatalf("path %q: want one on r1 (port %s), the first SRV target", path, port(r1))
	}
	if _, e, code := run(t, "", "send", "--relay", r2.TCP, "--relay-uri", "msrp://farm.test;tcp", "--user", "alice:pa", "--to", path, "via r1"); code != 0 {
		t.Fatalf("send: %s", e)
	}
	if got := nextLine(t, out); got != "via r1" {
		t.Fatalf("got %q", got)
	}
	r1.Stop()
	var newPath string
	for newPath == "" {
		line := nextLine(t, errs)
		if _, p, ok := strings.Cut(line, "reconnected; new path: "); ok {
			newPath = p
		}
	}
	if !strings.Contains(newPath, ":"+port(r2)+"/") {
		t.Fatalf("new path %q: want one on r2 (port %s)", newPath, port(r2))
	}
	if _, e, code := run(t, "", "send", "--relay", r2.TCP, "--relay", r1.TCP, "--user", "alice:pa", "--relay-uri", "msrp://farm.test;tcp", "--to", newPath, "via r2"); code != 0 {
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
