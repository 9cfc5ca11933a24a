package ws

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Close codes this package sends or checks (RFC 6455 section 7.4.1).
const (
	CloseNormalClosure   = 1000
	CloseProtocolError   = 1002
	CloseNoStatus        = 1005 // never sent: a Close frame without a code reads as this
	CloseMessageTooBig   = 1009
	closeReservedTLS     = 1015
	closeFirstPrivate    = 3000
	closeLastApplication = 4999
)

// Error is the peer breaking RFC 6455. The connection must fail with a
// Close frame carrying Code: 1002 (protocol error) or 1009 (message too
// big).
type Error struct {
	Code   int
	Reason string
}

func (e *Error) Error() string { return "websocket: " + e.Reason }

func protocolError(reason string) error {
	return &Error{Code: CloseProtocolError, Reason: reason}
}

func opcodeError(what string, opcode byte) error {
	return protocolError(what + " (opcode " + strconv.Itoa(int(opcode)) + ")")
}

// ParseClose reads the payload of a Close frame (RFC 6455 section
// 5.5.1): its status code (CloseNoStatus when it has none) and reason.
// A payload of one byte, a code a peer may not send, or a reason that is
// not UTF-8 is an *Error.
func ParseClose(payload []byte) (code int, reason string, err error) {
	switch {
	case len(payload) == 0:
		return CloseNoStatus, "", nil
	case len(payload) == 1:
		return 0, "", protocolError("close frame with a 1-byte payload")
	}
	code, reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
	if !ValidCloseCode(code) {
		return 0, "", protocolError("close frame with status code " + strconv.Itoa(code))
	}
	if !utf8.ValidString(reason) {
		return 0, "", protocolError("close frame reason is not UTF-8")
	}
	return code, reason, nil
}

// ValidCloseCode reports whether a peer may send code in a Close frame
// (RFC 6455 section 7.4 and the IANA registry): 1004-1006 and 1015 are
// reserved, 3000-4999 are for libraries and applications.
func ValidCloseCode(code int) bool {
	switch {
	case code >= CloseNormalClosure && code <= 1003, code >= 1007 && code < closeReservedTLS:
		return true
	}
	return code >= closeFirstPrivate && code <= closeLastApplication
}
