package endpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
)

// kamailioDir holds start.sh, stop.sh and kamailio.cfg of the Kamailio
// MSRP relay peer (a copy of the team's shared/peers/kamailio, so a clean
// clone has it); MSRPD_KAMAILIO_DIR overrides it.
func kamailioDir() string {
	if d := os.Getenv("MSRPD_KAMAILIO_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "kamailio-msrp")
}

// kamailio is a Kamailio 5.6 MSRP relay started by start.sh.
type kamailio struct {
	tcp, ws string // relay URLs
}

// startKamailio starts Kamailio on free loopback ports, or skips the test
// loudly when it is not installed and installing is not allowed.
func startKamailio(t *testing.T) *kamailio {
	t.Helper()
	dir := kamailioDir()
	start := filepath.Join(dir, "start.sh")
	if _, err := os.Stat(start); err != nil {
		t.Fatalf("%s not found (set MSRPD_KAMAILIO_DIR): %v", start, err)
	}
	if _, err := exec.LookPath("kamailio"); err != nil && os.Getenv("MSRPD_KAMAILIO") != "1" {
		t.Skip("\n*** KAMAILIO INTEROP TEST SKIPPED: kamailio is not installed. ***\n" +
			"*** Run with MSRPD_KAMAILIO=1 (as root, Debian) to let start.sh apt-get install ***\n" +
			"*** kamailio and kamailio-websocket-modules, or install them yourself.       ***")
	}
	ports := freePorts(t, 2)
	env := append(os.Environ(),
		"RUN_DIR="+t.TempDir(),
		"BIND_IP=127.0.0.1",
		"MSRP_PORT="+strconv.Itoa(ports[0]),
		"WS_PORT="+strconv.Itoa(ports[1]),
		"TCP_CHILDREN=2",
	)
	runScript := func(name string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // may apt-get install
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", filepath.Join(dir, name))
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	out, err := runScript("start.sh")
	if err != nil {
		t.Fatalf("start.sh: %v\n%s", err, out)
	}
	t.Logf("start.sh:\n%s", out)
	t.Cleanup(func() {
		if out, err := runScript("stop.sh"); err != nil {
			t.Errorf("stop.sh: %v\n%s", err, out)
		}
	})
	return &kamailio{
		tcp: fmt.Sprintf("msrp://127.0.0.1:%d;tcp", ports[0]),
		ws:  fmt.Sprintf("ws://127.0.0.1:%d/", ports[1]),
	}
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// TestKamailioInterop runs AUTH and a chat between two endpoints through
// Kamailio's msrp module, over TCP and WebSocket. Kamailio's users are
// U / "U"+"pw"; it needs AUTHs without Expires (Config.Expires = 0).
func TestKamailioInterop(t *testing.T) {
	k := startKamailio(t)
	url := map[string]string{"tcp": k.tcp, "ws": k.ws}
	dialK := func(t *testing.T, kind, user string) *Endpoint {
		return dial(t, url[kind], user, func(c *Config) {
			c.Password = user + "pw"
			c.ChunkTimeout = 5 * time.Second
		})
	}
	big := make([]byte, 64<<10) // Kamailio relays frames up to ~14 KB: chunks of 2048 pass
	_, _ = rand.Read(big)
	for _, tc := range []struct{ a, b string }{{"tcp", "tcp"}, {"ws", "ws"}, {"ws", "tcp"}, {"tcp", "ws"}} {
		t.Run(tc.a+"-"+tc.b, func(t *testing.T) {
			a, b := dialK(t, tc.a, "alice"), dialK(t, tc.b, "bob")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i := 0; i < 10; i++ {
				if err := a.Send(ctx, a.PathTo(b.Path()), "text/plain", fmt.Appendf(nil, "hi %d", i)); err != nil {
					t.Fatalf("a->b %d: %v", i, err)
				}
				if m := next(t, b, 5*time.Second); string(m.Body) != fmt.Sprintf("hi %d", i) {
					t.Fatalf("b got %q", m.Body)
				}
			}
			err := b.SendWith(ctx, b.PathTo(a.Path()), "application/octet-stream", big, SendOptions{SuccessReport: true})
			if err != nil {
				t.Fatalf("b->a 64 KiB with report: %v", err)
			}
			if m := next(t, a, 5*time.Second); !bytes.Equal(m.Body, big) {
				t.Fatalf("a got %d bytes, want the %d sent", len(m.Body), len(big))
			}
		})
	}
}

// TestKamailioRefresh refreshes the AUTH by hand (Kamailio grants 3600 s)
// and checks the session still receives.
func TestKamailioRefresh(t *testing.T) {
	k := startKamailio(t)
	for _, kind := range []string{"tcp", "ws"} {
		t.Run(kind, func(t *testing.T) {
			url := map[string]string{"tcp": k.tcp, "ws": k.ws}[kind]
			var got []Event
			a := dial(t, url, "alice", func(c *Config) {
				c.Password = "alicepw"
				c.OnEvent = func(ev Event) { got = append(got, ev) }
			})
			a.mu.Lock()
			c, s := a.conn, a.sess
			a.mu.Unlock()
			a.refreshAuth(c, s)
			if len(got) != 2 || got[1].Kind != EventRefreshed {
				t.Fatalf("events %+v, want connected, refreshed", got)
			}
			t.Logf("Use-Path before %s, after refresh %s", s.usePath, got[1].UsePath)
			b := dial(t, k.tcp, "bob", func(c *Config) { c.Password = "bobpw" })
			if err := b.Send(context.Background(), b.PathTo(a.Path()), "text/plain", []byte("after refresh")); err != nil {
				t.Fatalf("send after refresh: %v", err)
			}
			if m := next(t, a, 5*time.Second); string(m.Body) != "after refresh" {
				t.Fatalf("got %q", m.Body)
			}
		})
	}
}

// TestKamailioKeepalive: Kamailio answers our bodiless-SEND probes (with
// 403, it is no endpoint, but any answer proves liveness) and Ping frames.
func TestKamailioKeepalive(t *testing.T) {
	k := startKamailio(t)
	for _, tc := range []struct {
		kind string
		mode keepalive.Mode
	}{{"tcp", keepalive.ModeSend}, {"ws", keepalive.ModeSend}, {"ws", keepalive.ModeFrames}} {
		t.Run(tc.kind+"-"+string(tc.mode), func(t *testing.T) {
			url := map[string]string{"tcp": k.tcp, "ws": k.ws}[tc.kind]
			a := dial(t, url, "alice", func(c *Config) {
				c.Password = "alicepw"
				c.Keepalive = keepalive.Config{Interval: 30 * time.Millisecond, Timeout: 500 * time.Millisecond, Mode: tc.mode}
			})
			deadline := time.Now().Add(5 * time.Second)
			for a.Stats().Answers < 3 {
				if time.Now().After(deadline) {
					t.Fatalf("stats %+v: want 3 answered probes", a.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if st := a.Stats(); st.Misses != 0 || !a.Connected() {
				t.Errorf("stats %+v, connected %v", st, a.Connected())
			}
		})
	}
}
