package srv

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/msrpd/msrpd/internal/dnstest"
)

func TestOrderPriorityThenWeight(t *testing.T) {
	recs := []*net.SRV{
		{Target: "c.", Priority: 20, Weight: 0},
		{Target: "a.", Priority: 10, Weight: 1},
		{Target: "b.", Priority: 10, Weight: 99},
		{Target: "d.", Priority: 30, Weight: 5},
	}
	// Draw many times: b (weight 99) leads its priority about 99 times in
	// 101 (RFC 2782's sum+1 draw), c and d always follow in priority order.
	first := map[string]int{}
	for i := 0; i < 2000; i++ {
		got := Order(recs, newRand(int64(i)))
		if len(got) != 4 || got[2].Target != "c." || got[3].Target != "d." {
			t.Fatalf("order %v: want the 10s, then c, then d", targets(got))
		}
		first[got[0].Target]++
	}
	if first["b."] < 1800 || first["a."] < 5 {
		t.Errorf("first of priority 10: %v; want b about 98%% and a sometimes", first)
	}
	if len(recs) != 4 || recs[0].Target != "c." {
		t.Error("Order changed its argument")
	}
}

func TestOrderZeroWeightsAreDrawnToo(t *testing.T) {
	recs := []*net.SRV{{Target: "a.", Weight: 0}, {Target: "b.", Weight: 0}, {Target: "c.", Weight: 0}}
	seen := map[string]bool{}
	for i := 0; i < 300; i++ {
		got := Order(recs, newRand(int64(i)))
		if len(got) != 3 {
			t.Fatalf("got %d records", len(got))
		}
		seen[got[0].Target] = true
	}
	// All weights 0: the first of the list always wins the draw of 0.
	if !seen["a."] {
		t.Errorf("first targets %v", seen)
	}
}

func TestLookupSRVTargetsAndFallback(t *testing.T) {
	d := dnstest.Start(t)
	d.Add("_msrps._tcp.farm.test. 60 IN SRV 10 0 7001 r1.farm.test.",
		"_msrps._tcp.farm.test. 60 IN SRV 20 0 7002 r2.farm.test.",
		"_msrp._tcp.off.test. 60 IN SRV 0 0 0 .",
		"plain.test. 60 IN A 127.0.0.2")
	c := New(Config{Server: d.Addr})
	ctx := context.Background()

	ts, err := Lookup(ctx, c, "msrps", "farm.test")
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{{"r1.farm.test", 7001}, {"r2.farm.test", 7002}}
	if len(ts) != 2 || ts[0] != want[0] || ts[1] != want[1] {
		t.Errorf("farm.test: %v, want %v", ts, want)
	}
	// No SRV records: the host itself on 2855 (RFC 4976 section 8).
	if ts, err := Lookup(ctx, c, "msrps", "plain.test"); err != nil || len(ts) != 1 || ts[0] != (Target{"plain.test", 2855}) {
		t.Errorf("plain.test: %v, %v; want plain.test:2855", ts, err)
	}
	// msrp looks up _msrp, not _msrps.
	if ts, err := Lookup(ctx, c, "msrp", "farm.test"); err != nil || len(ts) != 1 || ts[0].Port != 2855 {
		t.Errorf("msrp farm.test: %v, %v; want the fallback", ts, err)
	}
	if _, err := Lookup(ctx, c, "msrp", "off.test"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("target \".\": %v, want ErrUnavailable", err)
	}
	if ts, err := Lookup(ctx, c, "msrps", "127.0.0.3"); err != nil || ts[0] != (Target{"127.0.0.3", 2855}) {
		t.Errorf("address: %v, %v", ts, err)
	}
	addrs, err := c.LookupNetIP(ctx, "ip", "plain.test")
	if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("LookupNetIP: %v, %v", addrs, err)
	}
	var de *net.DNSError
	if _, err := c.LookupNetIP(ctx, "ip", "nowhere.test"); !errors.As(err, &de) || !de.IsNotFound {
		t.Errorf("unknown name: %v, want a not-found *net.DNSError", err)
	}
}

// Answers are kept for their TTL, negative ones for the SOA's minimum.
func TestClientCachesForTTL(t *testing.T) {
	d := dnstest.Start(t)
	d.Add("_msrps._tcp.farm.test. 30 IN SRV 10 0 7001 r1.farm.test.", "r1.farm.test. 5 IN A 127.0.0.1")
	d.SetNegativeTTL(10)
	c := New(Config{Server: d.Addr})
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.LookupSRV(ctx, "msrps", "tcp", "farm.test"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.LookupNetIP(ctx, "ip4", "r1.farm.test"); err != nil {
			t.Fatal(err)
		}
		c.LookupNetIP(ctx, "ip4", "gone.test")
	}
	if n := d.Queries("_msrps._tcp.farm.test", dns.TypeSRV); n != 1 {
		t.Errorf("SRV asked %d times within its TTL, want 1", n)
	}
	if n := d.Queries("gone.test", dns.TypeA); n != 1 {
		t.Errorf("NXDOMAIN asked %d times within the SOA minimum, want 1", n)
	}
	now = now.Add(6 * time.Second) // past the A record's 5 s, within the rest
	c.LookupNetIP(ctx, "ip4", "r1.farm.test")
	c.LookupSRV(ctx, "msrps", "tcp", "farm.test")
	if a, s := d.Queries("r1.farm.test", dns.TypeA), d.Queries("_msrps._tcp.farm.test", dns.TypeSRV); a != 2 || s != 1 {
		t.Errorf("after 6 s: A asked %d times (want 2), SRV %d (want 1)", a, s)
	}
	// A changed record is seen once the old one expired.
	d.Remove("_msrps._tcp.farm.test")
	d.Add("_msrps._tcp.farm.test. 30 IN SRV 10 0 7009 r9.farm.test.")
	now = now.Add(30 * time.Second)
	ts, err := Lookup(ctx, c, "msrps", "farm.test")
	if err != nil || len(ts) != 1 || ts[0] != (Target{"r9.farm.test", 7009}) {
		t.Errorf("after the TTL: %v, %v; want the new record", ts, err)
	}
}

// A server that does not answer is an error, never the A fallback.
func TestLookupDeadServerIsAnError(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := New(Config{Server: pc.LocalAddr().String(), Timeout: 50 * time.Millisecond})
	ts, err := Lookup(context.Background(), c, "msrps", "farm.test")
	if err == nil {
		t.Fatalf("got %v from a silent server", ts)
	}
	var de *net.DNSError
	if !errors.As(err, &de) || de.IsNotFound {
		t.Errorf("error %v: want a *net.DNSError that is not a not-found", err)
	}
}

func targets(rs []*net.SRV) []string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Target)
	}
	return s
}

// newRand is a seeded intn.
func newRand(seed int64) func(int) int {
	x := uint64(seed)*6364136223846793005 + 1442695040888963407
	return func(n int) int {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return int(x % uint64(n))
	}
}
