package endpoint

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSOptions are the TLS client settings a relay with a private
// certificate needs, as files, the way msrpcat's --ca, --insecure,
// --cert, --key and --server-name give them. They apply to wss:// and
// msrps:// relays, on top of Config.TLSConfig when that is set too.
type TLSOptions struct {
	// CAFile names a PEM file of CA certificates to trust instead of the
	// system's roots: a lab's own CA, or a self-signed relay certificate.
	CAFile string
	// Insecure skips the verification of the relay's certificate, so
	// anyone on the path can read and change the session. For tests only;
	// Dial logs a warning. It cannot go with CAFile.
	Insecure bool
	// CertFile and KeyFile name a PEM client certificate (chain) and its
	// private key, for relays that ask for one (mutual TLS). Both or
	// neither.
	CertFile, KeyFile string
	// ServerName is the name sent in SNI and checked against the relay's
	// certificate, for a relay URL that names the relay by IP address or
	// by a name its certificate does not carry.
	ServerName string
}

// TLSFileError is a file named in TLSOptions that could not be used. It
// matches ErrBadConfig with errors.Is.
type TLSFileError struct {
	// Option is the field that names the file: "CAFile", "CertFile" or
	// "KeyFile".
	Option string
	// File is the file's name.
	File string
	// Err says what is wrong with it.
	Err error
}

// Error names the option, the file and the reason.
func (e *TLSFileError) Error() string {
	return fmt.Sprintf("endpoint: TLS %s %s: %v", e.Option, e.File, e.Err)
}

// Unwrap returns ErrBadConfig and the reason.
func (e *TLSFileError) Unwrap() []error { return []error{ErrBadConfig, e.Err} }

var errNoPEMCerts = errors.New("no PEM certificates in it (want -----BEGIN CERTIFICATE----- blocks)")

// ClientConfig returns base (nil means an empty tls.Config) cloned, with
// o applied: RootCAs from CAFile, InsecureSkipVerify, the client
// certificate, ServerName. Fields o leaves empty keep base's values.
func (o TLSOptions) ClientConfig(base *tls.Config) (*tls.Config, error) {
	c := &tls.Config{}
	if base != nil {
		c = base.Clone()
	}
	if o.Insecure && o.CAFile != "" {
		return nil, fmt.Errorf("%w: TLS: Insecure verifies nothing, CAFile verifies with a CA: give one of them", ErrBadConfig)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, fmt.Errorf("%w: TLS: CertFile and KeyFile go together", ErrBadConfig)
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, &TLSFileError{Option: "CAFile", File: o.CAFile, Err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &TLSFileError{Option: "CAFile", File: o.CAFile, Err: errNoPEMCerts}
		}
		c.RootCAs = pool
	}
	if o.Insecure {
		c.InsecureSkipVerify = true
	}
	if o.CertFile != "" {
		certPEM, err := os.ReadFile(o.CertFile)
		if err != nil {
			return nil, &TLSFileError{Option: "CertFile", File: o.CertFile, Err: err}
		}
		keyPEM, err := os.ReadFile(o.KeyFile)
		if err != nil {
			return nil, &TLSFileError{Option: "KeyFile", File: o.KeyFile, Err: err}
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, &TLSFileError{Option: "KeyFile", File: o.KeyFile, Err: fmt.Errorf("with certificate %s: %w", o.CertFile, err)}
		}
		c.Certificates = []tls.Certificate{cert}
	}
	if o.ServerName != "" {
		c.ServerName = o.ServerName
	}
	return c, nil
}
