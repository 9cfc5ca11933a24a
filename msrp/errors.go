package msrp

import (
	"errors"
	"fmt"
)

// ParseError reports input that is not valid MSRP.
//
// Fatal tells whether the framing of the stream was lost: when it is false
// the bad chunk was (or can be) skipped up to its end-line and the caller
// may answer it with Code and continue reading; when it is true the
// connection must be closed, since no later chunk can be found reliably.
type ParseError struct {
	// Code is the MSRP status that answers the chunk (400, 413, ...), or 0
	// when no response can be framed (no transaction id is known).
	Code int
	// TransactionID of the offending chunk, when it was read.
	TransactionID string
	// Reason says what is wrong, for logs and the response comment.
	Reason string
	// Fatal means the stream's framing is lost; the connection must close.
	Fatal bool
	// err is a sentinel the error stands for (ErrBodyTooLarge), if any.
	err error
}

// Unwrap returns the sentinel the error stands for, so that
// errors.Is(err, ErrBodyTooLarge) works.
func (e *ParseError) Unwrap() error { return e.err }

// Error says what is wrong, with the transaction id when known.
func (e *ParseError) Error() string {
	kind := "recoverable"
	if e.Fatal {
		kind = "fatal"
	}
	if e.TransactionID != "" {
		return fmt.Sprintf("msrp: %s (transaction %s, %s)", e.Reason, e.TransactionID, kind)
	}
	return fmt.Sprintf("msrp: %s (%s)", e.Reason, kind)
}

// IsFatal reports whether err is a ParseError that lost the stream's
// framing, or any error that is not a ParseError at all (I/O errors end a
// stream too).
func IsFatal(err error) bool {
	if err == nil {
		return false // the common case, without errors.As's allocation
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Fatal
	}
	return err != nil
}

var (
	// ErrEndLineInBody is returned by the Writer for a body that contains
	// the chunk's own end-line; pick another transaction id.
	ErrEndLineInBody = errors.New("msrp: body contains its own end-line")
	// ErrBodyTooLarge is wrapped by the non-fatal 413 *ParseError of
	// Reader.ReadMessage when a body exceeds the limit the caller set.
	ErrBodyTooLarge = errors.New("msrp: body too large")

	errNoTransactionID = errors.New("msrp: message has no valid transaction id")
	errNoMethod        = errors.New("msrp: request has no valid method")
	errBadStatus       = errors.New("msrp: response status code out of range")
	errBadFlag         = errors.New("msrp: continuation flag must be $, + or #")
	errBadHeaderName   = errors.New("msrp: invalid header name")
	errBadHeaderValue  = errors.New("msrp: header value or comment contains a control character")
)

func fatalf(tid, format string, a ...any) *ParseError {
	return &ParseError{TransactionID: tid, Reason: fmt.Sprintf(format, a...), Fatal: true}
}

func badRequestf(tid, format string, a ...any) *ParseError {
	return &ParseError{Code: 400, TransactionID: tid, Reason: fmt.Sprintf(format, a...)}
}
