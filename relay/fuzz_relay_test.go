package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
	"github.com/pion/logging"
)

// fuzzMaxInput caps one input, so no input can make the target itself
// allocate without bound.
const fuzzMaxInput = 128 << 10

// fuzzDeadline is how long the relay has to close a connection after the
// client sent its input and half-closed. A hang shows as a failure.
const fuzzDeadline = 10 * time.Second

// fuzzRelay is one relay per fuzz process, with an authenticated peer
// that answers every SEND, so that fuzzed requests can be routed.
type fuzzRelay struct {
	addr, via string
	peer      *rawClient
}

func startFuzzRelay(f *testing.F) *fuzzRelay {
	f.Helper()
	creds := NewMemoryCredentials()
	creds.Add(relayUser, relayRealm, relayPass)
	creds.Add("bob", relayRealm, "secret-bob")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(Config{
		Host:        "127.0.0.1",
		Port:        l.Addr().(*net.TCPAddr).Port,
		Realm:       relayRealm,
		Credentials: creds,
		// Debug level runs the logging code; the output is not kept.
		LoggerFactory:      &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDebug},
		MaxChunk:           64 << 10,
		ForwardChunk:       16 << 10,
		DialTimeout:        200 * time.Millisecond,
		TransactionTimeout: time.Second,
		Transport:          transport.Config{Keepalive: keepalive.Config{Interval: -1}},
		// Fuzzed next hops are never looked up nor dialled: the fuzzer
		// must not reach the network.
		Outbound: OutboundPolicy{Deny: []string{"0.0.0.0/0", "::/0"}, Resolver: noResolver{}},
	})
	if err != nil {
		f.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.ServeTCP(l); close(done) }()
	f.Cleanup(func() { srv.Close(); <-done })
	fr := &fuzzRelay{addr: l.Addr().String(), via: "msrp://" + l.Addr().String() + ";tcp"}
	fr.peer = dialRawTCP(f, fr.addr, fr.via)
	fr.peer.auth("bob", "secret-bob")
	peerDone := make(chan struct{})
	go func() {
		defer close(peerDone)
		for {
			fr.peer.nc.SetReadDeadline(time.Time{})
			m, err := fr.peer.br.ReadMessage(0)
			if err != nil {
				var pe *msrp.ParseError
				if errors.As(err, &pe) && !pe.Fatal {
					continue
				}
				return
			}
			if m.Method == "SEND" {
				if b, err := m.Response(200, "OK").AppendTo(nil); err == nil {
					fr.peer.writeRaw(b)
				}
			}
		}
	}()
	f.Cleanup(func() { fr.peer.nc.Close(); <-peerDone })
	return fr
}

// addFuzzSeeds adds every file of testdata/bad and testdata/wire.
func addFuzzSeeds(f *testing.F) {
	for _, dir := range []string{badDir, "../testdata/wire"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.msrp"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("MSRP a1b2c3d4 SEND\r\nTo-Path: {{USE}} {{PEER}}\r\nFrom-Path: {{SELF}}\r\nMessage-ID: m1\r\nByte-Range: 1-5/5\r\nContent-Type: text/plain\r\n\r\nhello\r\n-------a1b2c3d4$\r\n"))
}

// FuzzRelayRequest sends an authenticated client's connection arbitrary
// bytes (after the AUTH exchange; the corpus placeholders {{RELAY}},
// {{SELF}}, {{USE}}, {{PEER}} and {{PEERUSE}} are filled in so inputs can
// reach routing), half-closes it, and requires the relay to close the
// connection within fuzzDeadline: no panic, no hang. Every later input
// re-authenticates, which checks that the relay still serves.
func FuzzRelayRequest(f *testing.F) {
	addFuzzSeeds(f)
	fr := startFuzzRelay(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		c := dialRawTCP(t, fr.addr, fr.via)
		c.auth(relayUser, relayPass)
		data = []byte(strings.NewReplacer(
			"{{RELAY}}", c.via,
			"{{SELF}}", c.uri,
			"{{USE}}", c.use,
			"{{PEER}}", fr.peer.use+" "+fr.peer.uri,
			"{{PEERUSE}}", fr.peer.use,
		).Replace(string(data)))
		// Read whatever comes back while writing, so the relay's
		// responses never block it.
		closed := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, c.nc)
			closed <- err
		}()
		c.nc.SetWriteDeadline(time.Now().Add(fuzzDeadline))
		c.nc.Write(data) // the relay may close before taking it all
		c.nc.(*net.TCPConn).CloseWrite()
		select {
		case <-closed:
		case <-time.After(fuzzDeadline):
			t.Fatalf("the relay neither closed nor finished the connection %v after the input ended (%d bytes: %q)",
				fuzzDeadline, len(data), truncateForLog(data))
		}
	})
}

func truncateForLog(b []byte) []byte {
	if len(b) > 512 {
		return b[:512]
	}
	return b
}

// noResolver finds no name.
type noResolver struct{}

func (noResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return nil, &net.DNSError{Err: "not looked up in fuzzing", Name: host, IsNotFound: true}
}
