package relay

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// TestClientSamplesThroughRelay sends what real clients send, byte for
// byte from testdata/wire (only the paths are this test's), through the
// relay over TCP and WebSocket, and checks that each is forwarded with its
// headers untouched (names, values, order; only the paths change) and
// that what comes back reaches the sender (issue 16):
//
//   - Blink's keepalive (AG msrplib): a bodiless SEND with a non-standard
//     Keep-Alive header, answered 200 by the relay;
//   - msrp-node-lib's heartbeat: a SEND of text/x-msrp-heartbeat asking
//     for a success REPORT, which the receiver sends and the relay routes
//     back;
//   - unknown and extension headers on a SEND;
//   - NICKNAME (RFC 7701): forwarded like any non-SEND request, whose
//     response travels back end to end.
func TestClientSamplesThroughRelay(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	for _, kinds := range [][2]string{{"tcp", "ws"}, {"ws", "tcp"}} {
		from, to := kinds[0], kinds[1]
		t.Run(from+"-to-"+to, func(t *testing.T) {
			b := dialClient(t, map[string]string{"tcp": r.tcp, "ws": r.ws}[to], map[string]string{"tcp": r.uri, "ws": r.wsURI}[to])
			b.auth("bob", "secret-bob")

			t.Run("Blink keepalive", func(t *testing.T) {
				c, orig, got := sendSample(t, r, from, b, "valid-bodiless-keepalive-msrplib.msrp")
				if got.Body != nil || got.Header("Keep-Alive") != "yes" {
					t.Errorf("forwarded %+v, want a bodiless SEND with Keep-Alive: yes", got)
				}
				b.send(got.Response(200, "OK"))
				expectOK(t, c, orig.TransactionID)
			})

			t.Run("msrp-node-lib heartbeat", func(t *testing.T) {
				c, orig, got := sendSample(t, r, from, b, "valid-heartbeat-msrp-node-lib.msrp")
				if string(got.Body) != "HEARTBEAT" || got.ContentType() != "text/x-msrp-heartbeat" {
					t.Errorf("forwarded %q of %q", got.Body, got.ContentType())
				}
				b.send(got.Response(200, "OK"))
				expectOK(t, c, orig.TransactionID)
				// Success-Report: yes. The receiver's REPORT goes back along
				// the From-Path it got.
				rep := request("REPORT", got.Header("From-Path"), b.uri, "Message-ID", got.MessageID(),
					"Byte-Range", "1-9/9", "Status", "000 200 OK")
				b.send(rep)
				for {
					m, err := c.read(5 * time.Second)
					if err != nil {
						t.Fatalf("no REPORT back: %v", err)
					}
					if m.Method == "REPORT" {
						if m.MessageID() != orig.MessageID() || m.Header("Status") != "000 200 OK" {
							t.Errorf("REPORT %+v", m)
						}
						break
					}
				}
			})

			t.Run("extension headers", func(t *testing.T) {
				c, orig, got := sendSample(t, r, from, b, "valid-extension-headers.msrp")
				if string(got.Body) != "hello" {
					t.Errorf("body %q", got.Body)
				}
				b.send(got.Response(200, "OK"))
				expectOK(t, c, orig.TransactionID)
			})

			t.Run("NICKNAME", func(t *testing.T) {
				c, orig, got := sendSample(t, r, from, b, "valid-unknown-method.msrp")
				if got.Method != "NICKNAME" || got.Header("Use-Nickname") != `"Alice the Great"` {
					t.Errorf("forwarded %s with Use-Nickname %q", got.Method, got.Header("Use-Nickname"))
				}
				// A non-SEND request is answered end to end: the response
				// carries the whole path back, through the relay.
				b.send(got.Response(200, "OK"))
				resp, err := c.expectResponse(orig.TransactionID, 5*time.Second)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("NICKNAME response: %v, %v; want the receiver's 200", resp, err)
				}
				if tp := resp.Header("To-Path"); tp != c.uri {
					t.Errorf("response To-Path %q, want the sender %q", tp, c.uri)
				}
			})
		})
	}
}

var pathLine = regexp.MustCompile(`(?m)^(To-Path|From-Path): [^\r]*\r$`)

// sendSample sends the wire sample name from a new authenticated client
// over kind to b, with its To-Path and From-Path lines replaced and every
// other byte as in the file. It returns the sender, the sample as parsed
// and what b received, after checking that every header but the paths
// arrived as sent, in order.
func sendSample(t *testing.T, r *testRelay, kind string, b *client, name string) (*rawClient, *msrp.Message, *msrp.Message) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "wire", name))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := msrp.Parse(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, r, kind)
	c.auth(relayUser, relayPass)
	raw := pathLine.ReplaceAllStringFunc(string(data), func(line string) string {
		if strings.HasPrefix(line, "To-Path") {
			return "To-Path: " + pathTo(&client{use: c.use}, b) + "\r"
		}
		return "From-Path: " + c.uri + "\r"
	})
	if err := c.writeRaw([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	got := b.next(5 * time.Second)
	if got.Method != orig.Method || got.MessageID() != orig.MessageID() {
		t.Fatalf("received %s %s, want %s %s", got.Method, got.MessageID(), orig.Method, orig.MessageID())
	}
	if g, w := withoutPaths(got.Headers), withoutPaths(orig.Headers); !reflect.DeepEqual(g, w) {
		t.Errorf("headers changed on the way:\n got %q\nwant %q", g, w)
	}
	return c, orig, got
}

func withoutPaths(hs []msrp.Header) []msrp.Header {
	var out []msrp.Header
	for _, h := range hs {
		if h.Name != "To-Path" && h.Name != "From-Path" {
			out = append(out, h)
		}
	}
	return out
}

// expectOK waits for the relay's 200 to the SEND tid.
func expectOK(t *testing.T, c *rawClient, tid string) {
	t.Helper()
	resp, err := c.expectResponse(tid, 5*time.Second)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("response to %s: %v, %v; want 200", tid, resp, err)
	}
}
