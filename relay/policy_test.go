package relay

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestRefusedClass(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string // substring of the class; "" for admitted
	}{
		{"127.0.0.1", "loopback"},
		{"127.3.2.1", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"169.254.169.254", "link-local"}, // the cloud metadata address
		{"fe80::1", "link-local"},
		{"224.0.0.1", "link-local"}, // link-local multicast
		{"224.0.1.1", "multicast"},
		{"239.1.2.3", "multicast"},
		{"ff02::1", "link-local"},
		{"ff0e::1", "multicast"},
		{"10.1.2.3", "RFC 1918"},
		{"172.16.0.1", "RFC 1918"},
		{"172.31.255.255", "RFC 1918"},
		{"192.168.1.1", "RFC 1918"},
		{"fd00::1", "RFC 4193"},
		{"fc00::1", "RFC 4193"},
		{"100.64.0.1", "100.64.0.0/10"},
		{"100.127.255.254", "100.64.0.0/10"},
		{"255.255.255.255", "reserved"},
		{"fec0::1", "site-local"},
		{"64:ff9b::a00:1", "RFC 1918"},      // 10.0.0.1 behind NAT64
		{"64:ff9b::7f00:1", "loopback"},     // 127.0.0.1 behind NAT64
		{"64:ff9b:1::1", "local-use NAT64"}, // RFC 8215
		{"64:ff9b::c000:201", ""},           // 192.0.2.1 behind NAT64
		{"192.0.2.1", ""},
		{"8.8.8.8", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2001:db8::1", ""},
		{"2a00:1450:4001::1", ""},
	} {
		got := refusedClass(netip.MustParseAddr(tc.addr).Unmap())
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("refusedClass(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestDialPolicyCheckAddr(t *testing.T) {
	pol, err := newDialPolicy(OutboundPolicy{
		Allow: []string{"127.0.0.0/8", "10.1.0.0/16", "lab.example.", "fd00::5"},
		Deny:  []string{"10.1.2.0/24", "192.0.2.66", "Bad.Example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	own := func(ap netip.AddrPort) bool { return ap == netip.MustParseAddrPort("127.0.0.1:2855") }
	for _, tc := range []struct {
		host, addr string
		want       string // substring of the refusing rule; "" for admitted
	}{
		{"127.0.0.1", "127.0.0.1:2856", ""},
		{"127.0.0.1", "127.0.0.1:2855", "own listener"}, // allowed by prefix, still refused
		{"10.1.9.9", "10.1.9.9:2855", ""},
		{"10.1.2.3", "10.1.2.3:2855", "denied prefix 10.1.2.0/24"}, // deny wins over allow
		{"10.2.0.1", "10.2.0.1:2855", "RFC 1918"},
		{"lab.example", "10.9.9.9:2855", ""}, // allowed by name, whatever it resolves to
		{"LAB.example.", "192.168.0.1:2855", ""},
		{"lab.example", "10.1.2.3:2855", "denied prefix"},
		{"other.example", "10.9.9.9:2855", "RFC 1918"},
		{"fd00::5", "[fd00::5]:2855", ""},
		{"fd00::6", "[fd00::6]:2855", "RFC 4193"},
		{"192.0.2.66", "192.0.2.66:2855", "denied prefix 192.0.2.66/32"},
		{"192.0.2.67", "192.0.2.67:2855", ""},
	} {
		got := pol.checkAddr(tc.host, netip.MustParseAddrPort(tc.addr), own)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("checkAddr(%s, %s) = %q, want %q", tc.host, tc.addr, got, tc.want)
		}
	}
	if got := pol.checkName("bad.example."); !strings.Contains(got, "denied host bad.example") {
		t.Errorf("checkName(bad.example.) = %q, want a denied host", got)
	}
	if got := pol.checkScheme("msrp"); got == "" {
		t.Error("plain msrp admitted by a policy without Plain")
	}
	if got := pol.checkScheme("msrps"); got != "" {
		t.Errorf("msrps refused: %q", got)
	}
}

func TestDialPolicyBadEntries(t *testing.T) {
	for _, e := range []string{"10.0.0.0/33", "10.0.0.1/8/2", "not a name", "a:b:c", "*.example.com"} {
		_, err := New(Config{Credentials: testCredentials(), Outbound: OutboundPolicy{Allow: []string{e}}})
		if !errors.Is(err, errPolicyEntry) || !strings.Contains(err.Error(), e) {
			t.Errorf("Allow %q: New error %v, want errPolicyEntry naming the entry", e, err)
		}
	}
}

func TestIdentityOwnAddr(t *testing.T) {
	id := newIdentity(&Config{Host: "relay.example", Port: 2855, Aliases: []string{"198.51.100.1:443"}})
	id.addListener(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000})
	id.addListener(&net.TCPAddr{IP: net.IPv6unspecified, Port: 5000})
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:4000", true},
		{"127.0.0.2:4000", false}, // another loopback address: another relay may listen there
		{"0.0.0.0:4000", true},    // connecting to 0.0.0.0 reaches this machine
		{"127.0.0.1:4001", false},
		{"127.0.0.9:5000", true}, // the wildcard listener takes any local address
		{"[::1]:5000", true},
		{"192.0.2.1:5000", false},
		{"198.51.100.1:443", true}, // an advertised address
		{"198.51.100.1:444", false},
	} {
		if got := id.ownAddr(netip.MustParseAddrPort(tc.addr)); got != tc.want {
			t.Errorf("ownAddr(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	// An address of one of this machine's interfaces, on the wildcard port.
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range addrs {
			if n, ok := ia.(*net.IPNet); ok && !n.IP.IsLoopback() {
				a, _ := netip.AddrFromSlice(n.IP)
				if !id.ownAddr(netip.AddrPortFrom(a.Unmap(), 5000)) {
					t.Errorf("ownAddr(%s:5000): false for an interface address", a)
				}
				break
			}
		}
	}
}
