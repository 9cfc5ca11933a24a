// Package testpki makes throw-away certificate authorities and
// certificates for tests of TLS and mutual TLS over loopback.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority that lives for one test.
type CA struct {
	t    testing.TB
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// Pool holds the CA certificate, for RootCAs and ClientCAs.
	Pool *x509.CertPool
	// PEM is the CA certificate in PEM form.
	PEM []byte
}

var serial atomic.Int64

// NewCA makes a CA.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "msrpd test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{t: t, cert: cert, key: key, Pool: pool,
		PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Leaf is a certificate signed by the CA, good as TLS server and client
// (relays are both), for the DNS name given and for 127.0.0.1 and ::1.
type Leaf struct {
	Cert    tls.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// Issue makes a Leaf for name.
func (ca *CA) Issue(name string) *Leaf {
	ca.t.Helper()
	return ca.issue(name, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
}

// IssueNameOnly makes a Leaf for the DNS name only, without addresses:
// a client dialling 127.0.0.1 must then be told the name to verify.
func (ca *CA) IssueNameOnly(name string) *Leaf {
	ca.t.Helper()
	return ca.issue(name, nil)
}

func (ca *CA) issue(name string, ips []net.IP) *Leaf {
	ca.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames:    []string{name},
		IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return &Leaf{
		Cert:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}

// WriteFiles writes the leaf's certificate and key and the CA certificate
// into dir and returns their paths.
func (ca *CA) WriteFiles(dir string, l *Leaf, prefix string) (cert, key, caFile string) {
	ca.t.Helper()
	cert = filepath.Join(dir, prefix+"-cert.pem")
	key = filepath.Join(dir, prefix+"-key.pem")
	caFile = filepath.Join(dir, "ca.pem")
	for path, data := range map[string][]byte{cert: l.CertPEM, key: l.KeyPEM, caFile: ca.PEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			ca.t.Fatal(err)
		}
	}
	return cert, key, caFile
}
