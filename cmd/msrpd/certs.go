package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// certStore holds the relay's certificate (--cert, --key) and swaps it on
// reload: TLS handshakes ask it for the certificate (GetCertificate), so
// new handshakes get the new one while established connections keep the
// one they began with.
type certStore struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func loadCertStore(certFile, keyFile string) (*certStore, error) {
	s := &certStore{certFile: certFile, keyFile: keyFile}
	if _, err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads the files again; on error the certificate in use stays.
// It returns a description of the new certificate for the log.
func (s *certStore) reload() (string, error) {
	cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		return "", err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return "", fmt.Errorf("parse certificate: %w", err)
	}
	cert.Leaf = leaf
	s.cur.Store(&cert)
	return describeCert(leaf), nil
}

func describeCert(c *x509.Certificate) string {
	names := c.DNSNames
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		names = []string{c.Subject.CommonName}
	}
	return fmt.Sprintf("%s, valid until %s, serial %x", strings.Join(names, " "), c.NotAfter.UTC().Format(time.RFC3339), c.SerialNumber)
}

// getCertificate is the listeners' tls.Config.GetCertificate.
func (s *certStore) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cur.Load(), nil
}

// getClientCertificate is the outbound tls.Config.GetClientCertificate:
// our certificate when the next hop's request admits it, else none (as
// tls.Config.Certificates would choose).
func (s *certStore) getClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c := s.cur.Load()
	if err := cri.SupportsCertificate(c); err != nil {
		return &tls.Certificate{}, nil
	}
	return c, nil
}
