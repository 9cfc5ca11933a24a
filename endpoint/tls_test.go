package endpoint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
)

func TestTLSOptionsClientConfig(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	cert, key, caFile := ca.WriteFiles(dir, ca.Issue("alice.test"), "alice")
	_, otherKey, _ := ca.WriteFiles(dir, ca.Issue("other.test"), "other")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	base := &tls.Config{MinVersion: tls.VersionTLS13}
	c, err := TLSOptions{CAFile: caFile, CertFile: cert, KeyFile: key, ServerName: "relay.test"}.ClientConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS13 || c.ServerName != "relay.test" || c.RootCAs == nil || len(c.Certificates) != 1 || c.InsecureSkipVerify {
		t.Errorf("ClientConfig = %+v: want base's MinVersion with the options applied", c)
	}
	if base.ServerName != "" || base.RootCAs != nil {
		t.Error("ClientConfig changed its base")
	}

	for _, tc := range []struct {
		name   string
		o      TLSOptions
		option string // of the *TLSFileError, "" for none
		is     error
	}{
		{"missing CA", TLSOptions{CAFile: missing}, "CAFile", fs.ErrNotExist},
		{"CA not PEM", TLSOptions{CAFile: notPEM}, "CAFile", errNoPEMCerts},
		{"missing cert", TLSOptions{CertFile: missing, KeyFile: key}, "CertFile", fs.ErrNotExist},
		{"missing key", TLSOptions{CertFile: cert, KeyFile: missing}, "KeyFile", fs.ErrNotExist},
		{"key of another certificate", TLSOptions{CertFile: cert, KeyFile: otherKey}, "KeyFile", nil},
		{"cert without key", TLSOptions{CertFile: cert}, "", nil},
		{"insecure with CA", TLSOptions{CAFile: caFile, Insecure: true}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.o.ClientConfig(nil)
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("ClientConfig(%+v) = %v, want ErrBadConfig", tc.o, err)
			}
			var fe *TLSFileError
			if tc.option != "" && (!errors.As(err, &fe) || fe.Option != tc.option) {
				t.Errorf("ClientConfig(%+v) = %v, want a TLSFileError for %s", tc.o, err, tc.option)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("ClientConfig(%+v) = %v, want it to match %v", tc.o, err, tc.is)
			}
		})
	}
}

// TestDialTLSOptions dials a TLS relay that verifies client certificates
// and whose certificate (from a private CA) names it only by DNS name,
// over real sockets, with Config.TLS.
func TestDialTLSOptions(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	ca := testpki.NewCA(t)
	relayLeaf := ca.IssueNameOnly("relay.test")
	cert, key, caFile := ca.WriteFiles(dir, ca.Issue("alice.test"), "alice")
	tlsURL := newTLSRelay(t, &tls.Config{Certificates: []tls.Certificate{relayLeaf.Cert}, ClientCAs: ca.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})

	good := TLSOptions{CAFile: caFile, ServerName: "relay.test", CertFile: cert, KeyFile: key}
	for _, tc := range []struct {
		name string
		o    TLSOptions
		base *tls.Config
		fail func(error) bool
	}{
		{"all", good, nil, nil},
		{"on top of TLSConfig", good, &tls.Config{MinVersion: tls.VersionTLS13}, nil},
		{"insecure", TLSOptions{Insecure: true, CertFile: cert, KeyFile: key}, nil, nil},
		{"system roots", TLSOptions{ServerName: "relay.test", CertFile: cert, KeyFile: key}, nil, func(err error) bool {
			var u x509.UnknownAuthorityError
			return errors.As(err, &u)
		}},
		{"no server name", TLSOptions{CAFile: caFile, CertFile: cert, KeyFile: key}, nil, func(err error) bool {
			var h x509.HostnameError
			return errors.As(err, &h)
		}},
		{"no client certificate", TLSOptions{CAFile: caFile, ServerName: "relay.test"}, nil, func(err error) bool {
			var op *net.OpError
			return errors.As(err, &op) && op.Op == "remote error" && strings.Contains(op.Err.Error(), "certificate required")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := &syncBuffer{}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			e, err := Dial(ctx, Config{Relay: tlsURL, User: "alice", Password: alicePass, TLS: tc.o, TLSConfig: tc.base,
				LoggerFactory: loggerFactory(buf), Keepalive: keepalive.Config{Interval: -1}})
			if tc.fail != nil {
				if err == nil {
					e.Close()
					t.Fatal("Dial succeeded")
				}
				if !tc.fail(err) {
					t.Fatalf("Dial: %v: not the expected failure", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer e.Close()
			if !strings.HasPrefix(e.URI(), "msrps://") {
				t.Errorf("our URI %q: want msrps (AUTH went over TLS)", e.URI())
			}
			warned := strings.Contains(buf.String(), "TLS.Insecure: TLS certificates are not verified")
			if warned != tc.o.Insecure {
				t.Errorf("warning logged: %v, want %v; log:\n%s", warned, tc.o.Insecure, buf)
			}
		})
	}
}

// newTLSRelay starts a test relay with, besides its TCP and WebSocket
// listeners, a TLS listener configured by sc, and returns its msrps URL.
func newTLSRelay(t *testing.T, sc *tls.Config) string {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRelay(t, "", "", func(cfg *relay.Config) {
		cfg.Transport.TLSConfig = sc
		cfg.Aliases = append(cfg.Aliases, tl.Addr().String())
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Server.ServeTLS(tl) }()
	t.Cleanup(func() {
		r.Stop()
		<-done
	})
	return "msrps://" + tl.Addr().String() + ";tcp"
}
