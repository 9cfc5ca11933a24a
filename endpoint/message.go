package endpoint

import (
	"github.com/msrpd/msrpd/msrp"
)

// Message is one complete incoming message, reassembled from its chunks.
type Message struct {
	// ID is the Message-ID.
	ID string
	// ContentType is the Content-Type of its first chunk.
	ContentType string
	// FromPath is the From-Path as it arrived (the relays back to the
	// sender, then the sender's URI).
	FromPath string
	// ToPath is the To-Path as it arrived (normally our own URI).
	ToPath string
	// Headers are the headers of the chunk that began the message.
	Headers []msrp.Header
	// Body is the whole body, or nil when it was spooled to File.
	Body []byte
	// File is the path of the spooled body (see Config.SpoolDir), or "".
	// The receiver owns the file.
	File string
	// Size is the body's length in bytes.
	Size int64
}

// SendOptions are the per-message choices of SendWith and SendAsync.
type SendOptions struct {
	// MessageID is the Message-ID; "" means a random one.
	MessageID string
	// SuccessReport asks the receiver for a success REPORT
	// (Success-Report: yes) and makes the send wait for it.
	SuccessReport bool
	// FailureReport is the Failure-Report value: "" or "yes" (the default:
	// every chunk waits for its 200), "partial" (only failures are
	// reported, no 200 is awaited) or "no".
	FailureReport string
	// Headers are extra headers put in every chunk.
	Headers []msrp.Header
	// Progress, if set, is called after each chunk is written with the
	// bytes written so far and the total.
	Progress func(sent, total int64)
}

// EventKind tells what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventConnected: the first AUTH succeeded; Event.UsePath is set.
	EventConnected EventKind = iota
	// EventDisconnected: the connection was lost; Event.Err says why.
	EventDisconnected
	// EventReconnected: a new connection and AUTH succeeded after a loss;
	// Event.UsePath is the new Use-Path, which peers must be told.
	EventReconnected
	// EventReconnectFailed: one reconnect attempt failed (Event.Attempt).
	EventReconnectFailed
	// EventGaveUp: no more reconnect attempts; the Endpoint is done.
	EventGaveUp
	// EventRefreshed: the AUTH was refreshed before Expires; UsePath is
	// set (it may differ from the previous one).
	EventRefreshed
	// EventFailureReport: a failure REPORT came for a message no longer
	// outstanding (through a relay the 200s can come before it);
	// Event.Err is its *StatusError.
	EventFailureReport
)

// String names the kind for logs.
func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventReconnected:
		return "reconnected"
	case EventReconnectFailed:
		return "reconnect-failed"
	case EventGaveUp:
		return "gave-up"
	case EventRefreshed:
		return "refreshed"
	case EventFailureReport:
		return "failure-report"
	}
	return "unknown"
}

// Event reports a change of the Endpoint's connection.
type Event struct {
	Kind EventKind
	// UsePath is the relay's Use-Path for the (new) session.
	UsePath string
	// Path is the session's full path: Use-Path then our own URI.
	Path string
	// Attempt counts reconnect attempts since the loss (1-based).
	Attempt int
	// Changed is set on EventRefreshed when the relay gave a new Use-Path
	// (Kamailio 5.6 does on every AUTH); peers must then be told.
	Changed bool
	// Err is the cause of a disconnect or failed attempt.
	Err error
}
