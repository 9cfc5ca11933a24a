package relay

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// badDir holds the malformed-MSRP corpus; see its README.md.
const badDir = "../testdata/bad"

// badTID is the transaction id of every corpus case with a readable start
// line.
const badTID = "bad0tid1"

// badWant is the relay's answer to a corpus case on one transport.
type badWant struct {
	// code is the status of the response with badTID; 0 means none.
	code int
	// closed: the relay closes the connection and logs a line naming the
	// peer and containing log.
	closed bool
	log    string
	// fin: on TCP the chunk cannot end (no end-line), so the client
	// half-closes after it and the relay must close with a logged reason.
	fin bool
	// forwarded: the receiving client gets the request.
	forwarded bool
	// aborted: what was forwarded of a chunk that then failed ends with
	// a '#' chunk, so the receiver does not wait for the rest.
	aborted bool
}

// badCase is the expectation for one corpus file, over TCP and over
// WebSocket (one message per file). bug, when set, names the open
// finding in RELIABILITY.md that makes the case fail today.
type badCase struct {
	tcp, ws badWant
	bug     string
}

func same(w badWant) (tcp, ws badWant) { return w, w }

var (
	closedProto = badWant{closed: true, log: "protocol-error"}
	midBodyFIN  = badWant{fin: true, closed: true, log: "connection ended inside a body"}
)

// badCases maps each file of testdata/bad to its expected outcome. A file
// without an entry fails the test, as does an entry without a file.
var badCases = map[string]badCase{
	"start-http.msrp":           {tcp: closedProto, ws: closedProto},
	"start-bad-tid.msrp":        {tcp: closedProto, ws: closedProto},
	"start-no-method.msrp":      {tcp: closedProto, ws: closedProto},
	"start-tid-too-long.msrp":   {tcp: closedProto, ws: closedProto},
	"start-status-099.msrp":     {tcp: closedProto, ws: closedProto},
	"start-garbage-binary.msrp": {tcp: closedProto, ws: closedProto},
	// Methods are case-sensitive (RFC 4975 section 9): "send" is unknown.
	"method-lowercase.msrp":        {tcp: badWant{code: 501}, ws: badWant{code: 501}},
	"method-unknown-to-relay.msrp": {tcp: badWant{code: 501}, ws: badWant{code: 501}},
	"missing-to-path.msrp":         {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"missing-from-path.msrp":       {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"duplicate-to-path.msrp":       {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"duplicate-from-path.msrp":     {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"empty-to-path.msrp":           {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	// The header block exceeds MaxHeader (16 KiB): the framing of the TCP
	// stream is lost, but the lines before the limit name the paths, so
	// the 413 goes out before the close (F8). A WebSocket message has its
	// bounds: 413, and the connection lives on.
	"header-over-limit.msrp":             {tcp: badWant{code: 413, closed: true, log: "protocol-error"}, ws: badWant{code: 413}},
	"header-control-char.msrp":           {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"header-no-colon.msrp":               {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"bodiless-content-type.msrp":         {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"byte-range-syntax.msrp":             {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"byte-range-end-before-start.msrp":   {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"byte-range-huge-total.msrp":         {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"byte-range-start-beyond-total.msrp": {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	// The largest total the parser allows is forwarded: nothing is
	// allocated by the announced size.
	"byte-range-total-2p53.msrp": {tcp: badWant{code: 200, forwarded: true}, ws: badWant{code: 200, forwarded: true}},
	// An end-line with another transaction id (or a bad flag) is body:
	// on TCP the chunk goes on until the peer's FIN ends it mid-body; a
	// WebSocket message is a whole chunk, so it lacks its end-line: 400.
	// The relay forwards whole pieces (of --forward-chunk) or a chunk's
	// rest with its end-line, so these few bytes never left: the receiver
	// gets nothing (TestSenderLostMidChunk covers the '#' chunk after
	// pieces went out).
	"end-line-wrong-tid.msrp": {tcp: midBodyFIN, ws: badWant{code: 400}},
	"end-line-bad-flag.msrp":  {tcp: midBodyFIN, ws: badWant{code: 400}},
	"body-no-end-line.msrp":   {tcp: midBodyFIN, ws: badWant{code: 400}},
	// Non-SEND bodies are limited to 10240 octets (RFC 4975 section 7.1).
	"non-send-body-over-10240.msrp": {tcp: badWant{code: 413}, ws: badWant{code: 413}},
	"auth-body-over-10240.msrp":     {tcp: badWant{code: 413}, ws: badWant{code: 413}},
	// Config.MaxChunk is 64 KiB in this test.
	// On TCP the first 64 KiB were forwarded before the limit was hit.
	"send-body-over-maxchunk.msrp": {tcp: badWant{code: 413, forwarded: true, aborted: true}, ws: badWant{code: 413}},
	// Long paths that do not lead to the session's client are refused;
	// one longer than the header limit loses the framing.
	"to-path-300-uris.msrp":       {tcp: badWant{code: 403}, ws: badWant{code: 403}},
	"to-path-300-relay-uris.msrp": {tcp: badWant{code: 403}, ws: badWant{code: 403}},
	"to-path-2000-uris.msrp":      {tcp: closedProto, ws: closedProto},
	"uri-invalid-to-path.msrp":    {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"uri-invalid-from-path.msrp":  {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	"uri-not-msrp-scheme.msrp":    {tcp: badWant{code: 400}, ws: badWant{code: 400}},
	// An authenticated client must keep the From-Path it authenticated
	// with (RFC 4976 section 6.4), and may use only its own session
	// outward.
	"forged-from-path-extra-hop.msrp":    {tcp: badWant{code: 403}, ws: badWant{code: 403}},
	"session-of-another-connection.msrp": {tcp: badWant{code: 403}, ws: badWant{code: 403}},
	// A response nobody asked for is discarded; the connection lives on.
	"response-unknown-tid.msrp": {},
}

// loadBad returns the corpus files by name.
func loadBad(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(badDir, "*.msrp"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus in %s: %v", badDir, err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

// fill replaces the corpus placeholders for sender c and receiver b.
func fill(data []byte, c *rawClient, b *client) []byte {
	r := strings.NewReplacer(
		"{{RELAY}}", c.via,
		"{{SELF}}", c.uri,
		"{{USE}}", c.use,
		"{{PEER}}", b.use+" "+b.uri,
		"{{PEERUSE}}", b.use,
	)
	return []byte(r.Replace(string(data)))
}

func TestBadInputCorpus(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) {
		c.MaxChunk = 64 << 10
		c.ForwardChunk = 16 << 10
	})
	corpus := loadBad(t)
	var names []string
	for n := range corpus {
		if _, ok := badCases[n]; !ok {
			t.Errorf("%s has no expectation in badCases", n)
		}
		names = append(names, n)
	}
	for n := range badCases {
		if _, ok := corpus[n]; !ok {
			t.Errorf("badCases has %s, which is not in %s", n, badDir)
		}
	}
	sort.Strings(names)
	for _, kind := range []string{"tcp", "ws"} {
		t.Run(kind, func(t *testing.T) {
			// The receiver of everything that gets through.
			var b *client
			if kind == "ws" {
				b = dialClient(t, r.ws, r.wsURI)
			} else {
				b = dialClient(t, r.tcp, r.uri)
			}
			b.auth("bob", "secret-bob")
			recv := startReceiver(b)
			for _, name := range names {
				tc := badCases[name]
				want := tc.tcp
				if kind == "ws" {
					want = tc.ws
				}
				t.Run(strings.TrimSuffix(name, ".msrp"), func(t *testing.T) {
					before := recv.n.Load()
					c := dialRaw(t, r, kind)
					c.auth(relayUser, relayPass)
					problems := runBadCase(r, c, fill(corpus[name], c, b), want)
					if want.forwarded {
						if !waitFor(5*time.Second, func() bool { return recv.n.Load() > before }) {
							problems = append(problems, "the receiver did not get the request")
						}
					} else {
						time.Sleep(20 * time.Millisecond)
						if n := recv.n.Load(); n != before {
							problems = append(problems, fmt.Sprintf("the receiver got %d requests for a refused one", n-before))
						}
					}
					if want.aborted && !waitFor(time.Second, func() bool { return recv.flag("badmsg1") == '#' }) {
						problems = append(problems, fmt.Sprintf("the receiver's last chunk of the failed message has flag %q, want '#'", recv.flag("badmsg1")))
					}
					if len(problems) > 0 && tc.bug != "" {
						knownBug(t, tc.bug, "%s over %s: %s", name, kind, strings.Join(problems, "; "))
					}
					for _, p := range problems {
						t.Error(p)
					}
				})
			}
		})
	}
}

// runBadCase sends data on c and checks the relay's answer against want.
// It returns what went wrong.
func runBadCase(r *testRelay, c *rawClient, data []byte, want badWant) (problems []string) {
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if err := c.writeRaw(data); err != nil {
		fail("write: %v", err)
		return
	}
	if want.fin && c.kind == "tcp" {
		c.nc.(*net.TCPConn).CloseWrite()
	}
	if want.code != 0 {
		resp, err := c.expectResponse(badTID, 5*time.Second)
		switch {
		case err != nil:
			fail("no %d response: %v", want.code, err)
			return
		case resp.StatusCode != want.code:
			fail("response %d %q, want %d", resp.StatusCode, resp.Comment, want.code)
		}
	}
	if want.closed {
		deadline := time.Now().Add(5 * time.Second)
		for {
			m, err := c.read(time.Until(deadline))
			if err == errTimeout {
				fail("connection still open after 5s")
				return
			}
			if err != nil && closedErr(err) {
				break
			}
			if m != nil && !m.IsRequest() && m.TransactionID == badTID && want.code == 0 {
				fail("response %d before the close, want none", m.StatusCode)
			}
		}
		peer := c.localAddr()
		if !waitFor(2*time.Second, func() bool {
			return strings.Contains(grepLines(r.logBuf.String(), peer), want.log)
		}) {
			fail("no log line names the peer %s and %q:\n%s", peer, want.log, grepLines(r.logBuf.String(), peer))
		}
		return
	}
	if want.code == 0 {
		// Nothing comes back.
		if m, err := c.read(200 * time.Millisecond); err != errTimeout {
			fail("got %v, %v; want silence", m, err)
			return
		}
	}
	if err := c.alive(); err != nil {
		fail("connection unusable afterwards: %v", err)
	}
	return problems
}
