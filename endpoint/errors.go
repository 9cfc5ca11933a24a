package endpoint

import (
	"errors"
	"fmt"
)

var (
	// ErrBadConfig is returned by Dial for a Config that makes no sense.
	ErrBadConfig = errors.New("endpoint: bad config")
	// ErrClosed is returned by operations on a closed Endpoint.
	ErrClosed = errors.New("endpoint: closed")
	// ErrNotConnected is returned by Send while the endpoint reconnects.
	ErrNotConnected = errors.New("endpoint: not connected to the relay")
	// ErrConnectionLost fails the transactions outstanding when the
	// connection broke: to the relay, or without one, to the peer.
	ErrConnectionLost = errors.New("endpoint: connection lost")
	// ErrTimeout means a SEND chunk got no response within ChunkTimeout,
	// or a success REPORT did not come within ReportTimeout.
	ErrTimeout = errors.New("endpoint: timeout")
	// ErrAuth means the relay refused our credentials or failed to prove
	// it knows them (bad rspauth).
	ErrAuth = errors.New("endpoint: authentication failed")

	errNoChallenge = errors.New("endpoint: 401 without a usable Digest challenge")
	errNoUsePath   = errors.New("endpoint: 200 to AUTH without a Use-Path")
)

// StatusError is a failure reported by the network: a non-200 response to
// one of our requests, or a failure REPORT for one of our messages.
type StatusError struct {
	// Code is the MSRP status code (408, 413, 481, ...).
	Code int
	// Comment is the response's comment or the REPORT's Status text.
	Comment string
	// Report is true when the failure came as a REPORT, not a response.
	Report bool
	// MessageID of the message the failure belongs to, when known.
	MessageID string
}

// Error says which status came, how, and for which message.
func (e *StatusError) Error() string {
	what := "response"
	if e.Report {
		what = "failure REPORT"
	}
	s := fmt.Sprintf("endpoint: %s %d", what, e.Code)
	if e.Comment != "" {
		s += " " + e.Comment
	}
	if e.MessageID != "" {
		s += " for message " + e.MessageID
	}
	return s
}

// StatusCode returns the MSRP status code err carries (via *StatusError),
// or 0 when it carries none.
func StatusCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}
