package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/msrpd/msrpd/internal/digest"
)

// The farm's flags refuse what makes no sense, naming the flag, and never
// show a database password.
func TestFarmFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--domain", "=relay1.example.com"}, "--domain"},
		{[]string{"--domain", "bad name"}, `--domain "bad name": want NAME or NAME=HOST`},
		{[]string{"--users-db-query", "SELECT ha1 FROM x WHERE u = $1 AND r = $2"}, "--users-db-query needs --users-db"},
		{[]string{"--users-db", "oracle://u:hunter2@db/x"}, "--users-db"},
	} {
		out, err := exec.Command(msrpdBin, append([]string{"--tcp", "127.0.0.1:0"}, tc.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: err %v, output %q; want a refusal with %q", tc.args, err, out, tc.want)
		}
		if strings.Contains(string(out), "hunter2") {
			t.Errorf("%v: the output shows the password: %q", tc.args, out)
		}
	}
}

// --domain: an AUTH to the domain is challenged in its realm and gets a
// Use-Path on the domain's host; --user is in every realm.
func TestDaemonDomains(t *testing.T) {
	d := startDaemon(t, 1, "--tcp", "127.0.0.1:0", "--realm", "main.test",
		"--domain", "one.test=relay.one.test", "--domain", "two.test", "--user", "alice:pw")
	for _, tc := range []struct{ via, realm, host string }{
		{"msrp://one.test;tcp", "one.test", "relay.one.test"},
		{"msrp://two.test;tcp", "two.test", "127.0.0.1"},
		{"msrp://" + d.addrs["tcp"] + ";tcp", "main.test", "127.0.0.1"},
	} {
		c := dialRaw(t, d.addrs["tcp"])
		c.via = tc.via
		c.send(req("AUTH", c.via, c.uri))
		ch, err := digest.Parse(c.next().WWWAuthenticate())
		if err != nil {
			t.Fatal(err)
		}
		realm := ch["realm"]
		c.auth("alice", "pw")
		if realm != tc.realm || !strings.HasPrefix(c.use, "msrp://"+tc.host+":") {
			t.Errorf("AUTH to %s: realm %q, Use-Path %s; want realm %q on host %s", tc.via, realm, c.use, tc.realm, tc.host)
		}
	}
}
