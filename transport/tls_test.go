package transport

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/msrpd/msrpd/internal/testpki"
)

// testPKI is a throw-away CA with a server and a client certificate.
type testPKI struct {
	pool           *x509.CertPool
	server, client tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	ca := testpki.NewCA(t)
	return &testPKI{pool: ca.Pool, server: ca.Issue("relay.test").Cert, client: ca.Issue("peer.test").Cert}
}

func TestTLS(t *testing.T) {
	leakCheck(t)
	pki := newTestPKI(t)
	tests := []struct {
		name       string
		mutual     bool
		clientCert bool
		target     string // scheme prefix
		wantOK     bool
	}{
		{"server auth", false, false, "tls://", true},
		{"msrps URI", false, false, "msrps://", true},
		{"mutual TLS", true, true, "tls://", true},
		{"mutual TLS without client cert", true, false, "tls://", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srvTLS := &tls.Config{Certificates: []tls.Certificate{pki.server}}
			if tc.mutual {
				srvTLS.ClientAuth, srvTLS.ClientCAs = tls.RequireAndVerifyClientCert, pki.pool
			}
			got := make(serverConns, 1)
			var logs logBuffer
			addr := startStream(t, Config{TLSConfig: srvTLS, LoggerFactory: testLogger(&logs)}, holdHandler(got, true, nil))
			cliTLS := &tls.Config{RootCAs: pki.pool, ServerName: "relay.test"}
			if tc.clientCert {
				cliTLS.Certificates = []tls.Certificate{pki.client}
			}
			target := tc.target + addr
			if tc.target == "msrps://" {
				target += ";tcp"
			}
			c, err := testDial(t.Context(), target, Config{}, DialOptions{TLSConfig: cliTLS})
			if err != nil {
				t.Fatalf("Dial(%s): %v", target, err)
			}
			defer c.Close(ReasonLocal, "test done")
			if c.Kind() != KindTLS {
				t.Errorf("client kind %v", c.Kind())
			}
			// TLS 1.3 reports a refused client certificate on first read.
			if err := c.Send(sendReq("tls00001", "hi")); err != nil && tc.wantOK {
				t.Fatal(err)
			}
			_, err = c.Read()
			if (err == nil) != tc.wantOK {
				t.Fatalf("Read after handshake: %v, want ok=%v", err, tc.wantOK)
			}
			if !tc.wantOK {
				waitLog(t, &logs, "refused TLS connection from 127.0.0.1:")
				return
			}
			s := waitConn(t, got)
			if s.Kind() != KindTLS || s.PeerURI() != "msrp://client.invalid:1/c1;ws" || s.LocalURI() != "msrp://relay.example:2855/r1;tcp" {
				t.Errorf("server conn %v peer %s local %s", s.Kind(), s.PeerURI(), s.LocalURI())
			}
			if tc.mutual {
				state := s.NetConn().(*tls.Conn).ConnectionState()
				if len(state.PeerCertificates) == 0 || state.PeerCertificates[0].Subject.CommonName != "peer.test" {
					t.Error("client certificate not seen by the server")
				}
			}
		})
	}
}
