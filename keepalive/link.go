package keepalive

import "github.com/msrpd/msrpd/msrp"

// Link is what a Keeper needs from a connection. The transport implements
// it; tests use a fake. SendPing, SendProbe and CloseDead are called from
// a Scheduler's sender goroutines and may block for a bounded time (a
// write deadline); ProbePaths is called with the Keeper's lock held and
// must not block.
type Link interface {
	// CanPing reports whether the link has Ping frames (WebSocket).
	CanPing() bool
	// SendPing sends a Ping frame; it must not race the data writer.
	SendPing() error
	// SendProbe writes m, a bodiless SEND, through the data write path,
	// without counting it as traffic. It returns ErrBusy instead of
	// waiting when a write is in progress.
	SendProbe(m *msrp.Message) error
	// ProbePaths returns the To-Path (the peer's URI) and From-Path (our
	// URI) for a bodiless SEND probe.
	ProbePaths() (to, from string)
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
