package transport

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in       string
		wantKind Kind
		wantAddr string
		wantErr  bool
	}{
		{"ws://127.0.0.1:8080/msrp", KindWS, "", false},
		{"wss://relay.example/msrp", KindWSS, "", false},
		{"tcp://127.0.0.1:2855", KindTCP, "127.0.0.1:2855", false},
		{"tls://relay.example:2855/", KindTLS, "relay.example:2855", false},
		{"msrp://127.0.0.1:2855;tcp", KindTCP, "127.0.0.1:2855", false},
		{"msrps://relay.example;tcp", KindTLS, "relay.example:2855", false},
		{"msrps://[::1]:9000/sess1;tcp", KindTLS, "[::1]:9000", false},
		{"msrp://client.invalid:1/s;ws", 0, "", true},
		{"tcp://no-port", 0, "", true},
		{"http://relay.example", 0, "", true},
		{"relay.example:2855", 0, "", true},
		{"ws:///path", 0, "", true},
	}
	for _, tc := range tests {
		got, err := ParseTarget(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrBadTarget) {
				t.Errorf("ParseTarget(%q) = %+v, %v; want ErrBadTarget", tc.in, got, err)
			}
			continue
		}
		if err != nil || got.Kind != tc.wantKind || got.Addr != tc.wantAddr {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %v %q", tc.in, got, err, tc.wantKind, tc.wantAddr)
		}
	}
}

func TestDialForms(t *testing.T) {
	leakCheck(t)
	got := make(serverConns, 4)
	addr := startStream(t, Config{}, holdHandler(got, true, nil))
	url := startWS(t, Config{}, holdHandler(got, true, nil))
	for _, target := range []string{"tcp://" + addr, "msrp://" + addr + ";tcp", url} {
		t.Run(strings.SplitN(target, ":", 2)[0], func(t *testing.T) {
			c, err := testDial(t.Context(), target, Config{}, DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ReasonLocal, "test done")
			if err := c.Send(sendReq("dial0001", "ping")); err != nil {
				t.Fatal(err)
			}
			f, err := c.Read()
			if err != nil || f.Msg.StatusCode != 200 || f.Msg.TransactionID != "dial0001" {
				t.Fatalf("Read = %+v, %v; want the 200", f.Msg, err)
			}
			s := waitConn(t, got)
			c.Close(ReasonLocal, "test done")
			waitClosed(t, s, 2e9)
			if s.Reason() != ReasonPeerClosed {
				t.Errorf("server reason %v, want peer-closed", s.Reason())
			}
		})
	}
	if _, err := testDial(t.Context(), "tcp://"+addr, Config{MaxChunk: -1}, DialOptions{}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("bad config: %v", err)
	}
}
