package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/cliflag"
)

// tlsFlags are the TLS client flags of every command. Every TLS
// connection msrpcat makes uses the configuration clientTLS builds from
// them.
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ca", Category: "TLS", Usage: "trust the CA certificates in `FILE` (PEM) instead of the system's: a lab's own CA, or a self-signed relay certificate"},
		&cli.BoolFlag{Name: "insecure", Category: "TLS", Usage: "do not verify TLS certificates (tests only: anyone on the path can read and change the session)"},
		&cli.StringFlag{Name: "cert", Category: "TLS", Usage: "our certificate `FILE` (PEM): the client certificate for relays and SIP servers that ask for one (mutual TLS), and answer's on tls: SIP listeners; needs --key"},
		&cli.StringFlag{Name: "key", Category: "TLS", Usage: "private key `FILE` (PEM) of --cert"},
		&cli.StringFlag{Name: "server-name", Category: "TLS", Usage: "`NAME` to send in SNI and expect in the certificate, when --relay (or the SIP target) names the server by IP address or by another name; applies to every TLS connection of the run", Action: cliflag.One("server-name", cliflag.HostName)},
	}
}

// tlsFlagOf names the flag of each file option.
var tlsFlagOf = map[string]string{"CAFile": "ca", "CertFile": "cert", "KeyFile": "key"}

// insecureWarning makes the --insecure warning once per run.
var insecureWarning sync.Once

// clientTLS is the TLS client configuration of every connection msrpcat
// makes, MSRP (wss, msrps and tls relays and peers) and SIP (tls:
// transports) alike: TLS client options belong here and nowhere else.
// nil means Go's defaults (system roots, SNI from the host dialled).
func clientTLS(c *cli.Context) (*tls.Config, error) {
	o := endpoint.TLSOptions{
		CAFile:     c.String("ca"),
		Insecure:   c.Bool("insecure"),
		CertFile:   c.String("cert"),
		KeyFile:    c.String("key"),
		ServerName: c.String("server-name"),
	}
	switch {
	case o.Insecure && o.CAFile != "":
		return nil, errors.New("--insecure and --ca contradict each other: --ca verifies the relay with that CA, --insecure verifies nothing; give one")
	case o.CertFile != "" && o.KeyFile == "":
		return nil, errors.New("--cert needs --key, the certificate's private key")
	case o.CertFile == "" && o.KeyFile != "":
		return nil, errors.New("--key needs --cert, the certificate it belongs to")
	case o == endpoint.TLSOptions{}:
		return nil, nil
	}
	tc, err := o.ClientConfig(nil)
	if err != nil {
		var fe *endpoint.TLSFileError
		if errors.As(err, &fe) {
			reason := fe.Err
			var pe *fs.PathError
			if errors.As(reason, &pe) && pe.Path == fe.File {
				reason = pe.Err // the file is named already
			}
			return nil, fmt.Errorf("--%s %s: %w", tlsFlagOf[fe.Option], fe.File, reason)
		}
		return nil, err
	}
	if o.Insecure {
		insecureWarning.Do(func() {
			fmt.Fprintln(os.Stderr, "msrpcat: warning: --insecure: TLS certificates are not verified; anyone on the path can read and change this session")
		})
	}
	return tc, nil
}

// tlsHint adds to a failed TLS handshake, with a relay, a SIP server or
// a peer, which flag fixes it.
func tlsHint(c *cli.Context, err error) error {
	if err == nil {
		return nil
	}
	var (
		unknownCA x509.UnknownAuthorityError
		wrongName x509.HostnameError
		invalid   x509.CertificateInvalidError
		remote    *net.OpError
	)
	switch {
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w\n  the certificate is not signed by a CA this machine trusts: give that CA with --ca FILE, or skip verification with --insecure (tests only)", err)
	case errors.As(err, &wrongName):
		return fmt.Errorf("%w\n  the certificate is not for the host dialled: give a name it holds with --server-name NAME, or skip verification with --insecure (tests only)", err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%w\n  --insecure skips verification (tests only)", err)
	case errors.As(err, &remote) && remote.Op == "remote error":
		alert := remote.Err.Error()
		switch {
		case c.String("cert") == "" && (strings.Contains(alert, "certificate required") || strings.Contains(alert, "bad certificate")):
			return fmt.Errorf("%w\n  the server wants a client certificate: give one with --cert FILE --key FILE", err)
		case c.String("cert") != "" && (strings.Contains(alert, "certificate") || strings.Contains(alert, "unknown")):
			return fmt.Errorf("%w\n  the server refused the client certificate of --cert %s: is it signed by a CA the server trusts?", err, c.String("cert"))
		}
	}
	return err
}

// dial is endpoint.Dial with tlsHint.
func dial(ctx context.Context, c *cli.Context, cfg endpoint.Config) (*endpoint.Endpoint, error) {
	e, err := endpoint.Dial(ctx, cfg)
	return e, tlsHint(c, err)
}
