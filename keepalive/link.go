package keepalive

import (
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// Link is what a Keeper needs from a connection. The transport implements
// it; tests use a fake. Methods are called from the Keeper's timer
// goroutine. ProbePaths and SetReadDeadline may be called with the
// Keeper's lock held and must not block.
type Link interface {
	// CanPing reports whether the link has Ping frames (WebSocket).
	CanPing() bool
	// SendPing sends a Ping frame; it must not race the data writer
	// (gorilla's WriteControl is safe for that).
	SendPing() error
	// SendProbe writes m, a bodiless SEND, through the data write path,
	// without counting it as traffic. It returns ErrBusy instead of
	// waiting when a write is in progress.
	SendProbe(m *msrp.Message) error
	// ProbePaths returns the To-Path (the peer's URI) and From-Path (our
	// URI) for a bodiless SEND probe.
	ProbePaths() (to, from string)
	// SetReadDeadline arms (or, with the zero time, disarms) the read
	// deadline that backs the Keeper up while a probe is outstanding.
	SetReadDeadline(t time.Time) error
	// CloseDead closes the connection as dead (keepalive timeout).
	CloseDead(detail string)
	// String names the peer in log lines.
	String() string
}

// Probe returns a bodiless SEND keepalive (RFC 4975 section 7.1): To-Path,
// From-Path, a fresh Message-ID and the Byte-Range of an empty message,
// then directly the end-line. Any response to it proves the peer alive.
func Probe(tid, to, from string) *msrp.Message {
	return &msrp.Message{
		TransactionID: tid,
		Method:        msrp.MethodSEND,
		Headers: []msrp.Header{
			{Name: msrp.HeaderToPath, Value: to},
			{Name: msrp.HeaderFromPath, Value: from},
			{Name: msrp.HeaderMessageID, Value: msrp.NewMessageID()},
			{Name: msrp.HeaderByteRange, Value: "1-0/0"},
		},
		Flag: msrp.FlagComplete,
	}
}
