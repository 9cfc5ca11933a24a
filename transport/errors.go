package transport

import (
	"errors"
	"net"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

var (
	// ErrClosed is returned by Read and Send on a closed Conn. It wraps
	// net.ErrClosed, so errors.Is(err, net.ErrClosed) holds too.
	ErrClosed = &closedError{}
	// ErrHostClosed is returned by a Host's Serve methods and Dial after
	// its Close.
	ErrHostClosed = errors.New("transport: host closed")
	// ErrBadConfig is returned for a Config value that makes no sense.
	ErrBadConfig = errors.New("transport: bad config")
	// ErrBadTarget is returned by Dial for a target it cannot parse.
	ErrBadTarget = errors.New("transport: bad dial target")
	// ErrNoSubprotocol means the WebSocket server Dial reached did not
	// choose the "msrp" subprotocol.
	ErrNoSubprotocol = ws.ErrNoSubprotocol

	errBusy = keepalive.ErrBusy
)

type closedError struct{}

func (*closedError) Error() string { return "transport: connection closed" }
func (*closedError) Unwrap() error { return net.ErrClosed }

// IsClosed reports whether err means the connection is closed (by either
// side, for any reason).
func IsClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

// CloseError is returned by Read and Send once the connection is closed.
// errors.Is(err, ErrClosed) and errors.Is(err, net.ErrClosed) hold for it,
// and it unwraps to the cause (io.EOF, a *websocket.CloseError, a
// *msrp.ParseError, ...) when there was one.
type CloseError struct {
	Reason CloseReason
	Detail string
	Err    error
}

func (e *CloseError) Error() string {
	s := "transport: connection closed: " + e.Reason.String()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns ErrClosed and the cause.
func (e *CloseError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrClosed}
	}
	return []error{ErrClosed, e.Err}
}
