package relay

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// dialRecorder is a relay's Transport.DialContext in these tests: it notes
// every address the relay tries and connects to sink instead, a real
// listener on loopback. Addresses a test cannot listen on (10.1.2.3,
// 169.254.169.254) thus still end in a real socket if the relay dials
// them: a dial the policy should have refused shows at the sink.
type dialRecorder struct {
	mu    sync.Mutex
	addrs []string
	sink  *sink
}

func newDialRecorder(t *testing.T) *dialRecorder {
	return &dialRecorder{sink: newSink(t)}
}

func (d *dialRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	return (&net.Dialer{}).DialContext(ctx, network, d.sink.addr)
}

func (d *dialRecorder) tried() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

// sink is a listener that counts the connections it accepts and closes
// each once it has read something, like a port where something other than
// MSRP listens.
type sink struct {
	addr     string
	port     int
	accepted atomic.Int64
}

func newSink(t *testing.T) *sink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{addr: l.Addr().String(), port: l.Addr().(*net.TCPAddr).Port}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.Read(make([]byte, 1))
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return s
}

// fakeResolver answers for names under .test and asks the system for
// others (localhost).
type fakeResolver struct {
	names map[string][]netip.Addr

	mu      sync.Mutex
	lookups []string
}

func (f *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	f.lookups = append(f.lookups, host)
	f.mu.Unlock()
	if !strings.HasSuffix(host, ".test") {
		return net.DefaultResolver.LookupNetIP(ctx, network, host)
	}
	if a, ok := f.names[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f *fakeResolver) looked(host string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.lookups {
		if h == host {
			return true
		}
	}
	return false
}

func addrs(s ...string) []netip.Addr {
	var a []netip.Addr
	for _, x := range s {
		a = append(a, netip.MustParseAddr(x))
	}
	return a
}

// sendTo sends a SEND from a to the next hop uri through a's session and
// returns the relay's answer.
func sendTo(t *testing.T, a *client, uri string) *msrp.Message {
	t.Helper()
	a.sendText(a.use+" "+uri, []byte("to "+uri))
	return a.next(5 * time.Second)
}

// hopOutcome sends a SEND from a to uri and returns the relay's response
// and, after a 200, the failure REPORT that follows (in either order:
// the REPORT may overtake the 200).
func hopOutcome(t *testing.T, a *client, uri string) (resp, report *msrp.Message) {
	t.Helper()
	a.sendText(a.use+" "+uri, []byte("to "+uri))
	for resp == nil || (resp.StatusCode == 200 && report == nil) {
		m := a.next(5 * time.Second)
		if m.IsRequest() {
			report = m
		} else {
			resp = m
		}
	}
	return resp, report
}

// TestOutboundPolicyRefusesWithoutSocket: every class of next hop the
// default policy refuses gets 403 at once, a log line naming the user,
// the target and the rule, a counter, and no connection attempt: the
// dial hook sees nothing and neither does the listener on 127.0.0.1.
func TestOutboundPolicyRefusesWithoutSocket(t *testing.T) {
	checkGoroutines(t)
	rec := newDialRecorder(t)
	res := &fakeResolver{names: map[string][]netip.Addr{
		"intranet.test": addrs("10.0.0.7"),
		"meta.test":     addrs("169.254.169.254"),
		"self.test":     addrs("127.0.0.1", "::1"),
	}}
	r := newTestRelay(t, func(c *Config) {
		c.Transport.DialContext = rec.dial
		c.Outbound.Resolver = res
	})
	a := dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)
	port := rec.sink.port
	cases := []struct{ uri, rule string }{
		{fmt.Sprintf("msrps://127.0.0.1:%d/x;tcp", port), "loopback"},
		{fmt.Sprintf("msrps://[::1]:%d/x;tcp", port), "loopback"},
		{fmt.Sprintf("msrps://127.0.0.2:%d/x;tcp", port), "loopback"},
		{fmt.Sprintf("msrps://0.0.0.0:%d/x;tcp", port), "unspecified"},
		{fmt.Sprintf("msrps://[::]:%d/x;tcp", port), "unspecified"},
		{"msrps://169.254.169.254:80/x;tcp", "link-local"},
		{"msrps://[fe80::1]:2855/x;tcp", "link-local"},
		{"msrps://224.0.1.1:2855/x;tcp", "multicast"},
		{"msrps://[ff0e::1]:2855/x;tcp", "multicast"},
		{"msrps://10.1.2.3:2855/x;tcp", "RFC 1918"},
		{"msrps://172.16.5.4:2855/x;tcp", "RFC 1918"},
		{"msrps://192.168.1.1:2855/x;tcp", "RFC 1918"},
		{"msrps://[fd00::1]:2855/x;tcp", "RFC 4193"},
		{"msrps://100.64.0.1:2855/x;tcp", "100.64.0.0/10"},
		{"msrp://192.0.2.10:2855/x;tcp", "plain msrp"}, // public, but not TLS
		// Names are checked after resolution.
		{fmt.Sprintf("msrps://localhost:%d/x;tcp", port), "loopback"},
		{"msrps://intranet.test:2855/x;tcp", "RFC 1918"},
		{"msrps://meta.test:80/x;tcp", "link-local"},
		{fmt.Sprintf("msrps://self.test:%d/x;tcp", port), "loopback"},
		// A name that does not resolve is answered alike.
		{"msrps://nx.test:2855/x;tcp", "no address"},
	}
	for _, tc := range cases {
		resp := sendTo(t, a, tc.uri)
		if resp.StatusCode != 403 || resp.Comment != "next hop not allowed" {
			t.Errorf("%s: %d %q, want 403 next hop not allowed", tc.uri, resp.StatusCode, resp.Comment)
		}
	}
	if tried := rec.tried(); len(tried) != 0 {
		t.Errorf("the relay tried to connect to %v", tried)
	}
	if n := rec.sink.accepted.Load(); n != 0 {
		t.Errorf("the listener on 127.0.0.1:%d saw %d connections", port, n)
	}
	if got := r.srv.Stats().NextHopsRefused; got != int64(len(cases)) {
		t.Errorf("NextHopsRefused = %d, want %d", got, len(cases))
	}
	log := r.logBuf.String()
	for _, tc := range cases {
		u, _ := msrp.ParseURI(tc.uri)
		found := false
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, `user "alice"`) && strings.Contains(line, u.String()) &&
				strings.Contains(line, "refused by the outbound policy") && strings.Contains(line, tc.rule) {
				found = true
			}
		}
		if !found {
			t.Errorf("no log line names user alice, %s and the rule %q", tc.uri, tc.rule)
		}
	}
}

// TestOutboundPolicyAllowDenyPlain: what Allow and Plain admit is
// dialled (the recorder sees it and the sink gets the connection), Deny
// refuses more, and a name is checked address by address: of a name with
// a private and a public address only the public one is tried.
func TestOutboundPolicyAllowDenyPlain(t *testing.T) {
	checkGoroutines(t)
	rec := newDialRecorder(t)
	res := &fakeResolver{names: map[string][]netip.Addr{
		"mixed.test": addrs("10.0.0.8", "192.0.2.10"),
		"lab.test":   addrs("192.168.7.7"),
		"bad.test":   addrs("192.0.2.99"),
	}}
	r := newTestRelay(t, func(c *Config) {
		c.Transport.DialContext = rec.dial
		c.Outbound = OutboundPolicy{
			Allow:    []string{"10.1.0.0/16", "lab.test"},
			Deny:     []string{"10.1.2.0/24", "198.51.100.0/24", "bad.test"},
			Plain:    true,
			Resolver: res,
		}
	})
	a := dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)

	for _, tc := range []struct {
		uri   string
		tried string // the address dialled; "" for refused
	}{
		{"msrp://10.1.9.9:2855/x;tcp", "10.1.9.9:2855"},           // allowed prefix
		{"msrp://lab.test:2856/x;tcp", "192.168.7.7:2856"},        // allowed name
		{"msrp://mixed.test:2857/x;tcp", "192.0.2.10:2857"},       // only its public address
		{"msrp://10.1.2.3:2855/x;tcp", ""},                        // denied within an allowed prefix
		{"msrp://198.51.100.7:2855/x;tcp", ""},                    // denied public prefix
		{"msrp://bad.test:2855/x;tcp", ""},                        // denied name
		{"msrp://10.2.0.1:2855/x;tcp", ""},                        // private, not allowed
		{"msrp://[2001:db8::7]:2858/x;tcp", "[2001:db8::7]:2858"}, // public
	} {
		before := len(rec.tried())
		resp, rep := hopOutcome(t, a, tc.uri)
		tried := rec.tried()[before:]
		if tc.tried == "" {
			if resp.StatusCode != 403 || rep != nil || len(tried) != 0 {
				t.Errorf("%s: %d, tried %v; want 403 and no dial", tc.uri, resp.StatusCode, tried)
			}
			continue
		}
		if len(tried) != 1 || tried[0] != tc.tried {
			t.Errorf("%s: tried %v, want [%s]", tc.uri, tried, tc.tried)
		}
		// The sink closes once it read the SEND: 200 from the relay and a
		// failure REPORT, whose reason says no more than a closed port's.
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d, want 200", tc.uri, resp.StatusCode)
			continue
		}
		if st, _ := rep.Status(); rep.Method != "REPORT" || st.Code != 408 || st.Comment != "next hop unreachable" {
			t.Errorf("%s: got %s %q, want REPORT 408 next hop unreachable", tc.uri, rep.Method, rep.Header("Status"))
		}
	}
	if res.looked("bad.test") {
		t.Error("a denied name was looked up")
	}
	if n := rec.sink.accepted.Load(); n != 4 {
		t.Errorf("sink accepted %d connections, want 4", n)
	}
}

// TestOutboundOwnListenerRefused: the relay never dials itself, even
// where an Allow prefix admits the address and the name does not look
// like the relay's.
func TestOutboundOwnListenerRefused(t *testing.T) {
	checkGoroutines(t)
	rec := newDialRecorder(t)
	res := &fakeResolver{names: map[string][]netip.Addr{"self.test": addrs("127.0.0.1")}}
	r := newTestRelay(t, func(c *Config) {
		c.Transport.DialContext = rec.dial
		c.Outbound = OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true, Resolver: res}
	})
	a := dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)
	for _, l := range []string{r.tcp, r.ws} {
		_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.SplitN(l, "://", 2)[1], "/"))
		uri := "msrp://self.test:" + port + "/x;tcp"
		if resp := sendTo(t, a, uri); resp.StatusCode != 403 {
			t.Errorf("%s (our own listener): %d, want 403", uri, resp.StatusCode)
		}
		if !strings.Contains(r.logBuf.String(), "the relay's own listener (127.0.0.1:"+port+")") {
			t.Errorf("no log line names the own-listener rule for port %s", port)
		}
	}
	if tried := rec.tried(); len(tried) != 0 {
		t.Errorf("the relay tried to connect to %v", tried)
	}
	// The same prefix admits another port on loopback.
	if resp, _ := hopOutcome(t, a, fmt.Sprintf("msrp://self.test:%d/x;tcp", rec.sink.port)); resp.StatusCode != 200 {
		t.Errorf("allowed loopback next hop: %d, want 200", resp.StatusCode)
	}
	if n := rec.sink.accepted.Load(); n != 1 {
		t.Errorf("sink accepted %d connections, want 1", n)
	}
}

// TestOutboundOpenAndClosedPortLookAlike: the answers for a next hop
// where something listens that is not MSRP and for a closed port carry
// the same code and reason, so a user cannot tell them apart by their
// text (the timing and the 200 before the REPORT still differ; see the
// README's "Outbound policy").
func TestOutboundOpenAndClosedPortLookAlike(t *testing.T) {
	checkGoroutines(t)
	open := newSink(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	r := newTestRelay(t, func(c *Config) {
		c.Outbound = OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}
	})
	a := dialClient(t, r.tcp, r.uri)
	a.auth(relayUser, relayPass)

	resp := sendTo(t, a, fmt.Sprintf("msrp://127.0.0.1:%d/x;tcp", closedPort))
	if resp.StatusCode != 408 || resp.Comment != "next hop unreachable" {
		t.Fatalf("closed port: %d %q, want 408 next hop unreachable", resp.StatusCode, resp.Comment)
	}
	resp, rep := hopOutcome(t, a, fmt.Sprintf("msrp://127.0.0.1:%d/x;tcp", open.port))
	if resp.StatusCode != 200 {
		t.Fatalf("open port: %d, want the relay's 200", resp.StatusCode)
	}
	if st, _ := rep.Status(); st.Code != 408 || st.Comment != "next hop unreachable" {
		t.Fatalf("open port: %s %q, want REPORT 408 next hop unreachable", rep.Method, rep.Header("Status"))
	}
}

// TestTwoRelaysChainedOverPlainTCP: a chain of two relays on loopback
// over plain TCP works with Allow 127.0.0.0/8 and Plain, and is refused
// by the default policy.
func TestTwoRelaysChainedOverPlainTCP(t *testing.T) {
	checkGoroutines(t)
	for _, tc := range []struct {
		name   string
		policy OutboundPolicy
		want   int
	}{
		{"allowed", OutboundPolicy{Allow: []string{"127.0.0.0/8"}, Plain: true}, 200},
		{"default", OutboundPolicy{}, 403},
		{"not plain", OutboundPolicy{Allow: []string{"127.0.0.0/8"}}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := func(c *Config) { c.Outbound = tc.policy }
			r1, r2 := newTestRelay(t, set), newTestRelay(t, set)
			a, b := dialClient(t, r1.ws, r1.wsURI), dialClient(t, r2.ws, r2.wsURI)
			a.auth(relayUser, relayPass)
			b.auth("bob", "secret-bob")
			if tc.want != 200 {
				a.sendText(a.use+" "+b.use+" "+b.uri, []byte("refused"))
				if resp := a.next(5 * time.Second); resp.StatusCode != tc.want {
					t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
				}
				return
			}
			for i := 0; i < 5; i++ {
				chatOver(t, a, b, a.use+" "+b.use+" "+b.uri, fmt.Sprintf("a->b %d", i))
				chatOver(t, b, a, b.use+" "+a.use+" "+a.uri, fmt.Sprintf("b->a %d", i))
			}
		})
	}
}

// chatOver sends body from c along path, has d answer it, and checks
// that it arrived and that c got its 200.
func chatOver(t *testing.T, c, d *client, path, body string) {
	t.Helper()
	c.sendText(path, []byte(body))
	m := d.next(5 * time.Second)
	if string(m.Body) != body {
		t.Fatalf("got %s %q, want %q", m.Method, m.Body, body)
	}
	d.send(m.Response(200, "OK"))
	if r := c.next(5 * time.Second); r.StatusCode != 200 {
		t.Fatalf("%q: sender got %s %d %q", body, r.Method, r.StatusCode, r.Header("Status"))
	}
}
