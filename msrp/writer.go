package msrp

import (
	"bytes"
	"errors"
	"io"
	"strings"
)

var errContentTypeNoBody = errors.New("msrp: bodiless request with a Content-Type header")

// AppendTo appends the wire form of m to dst: To-Path and From-Path first,
// other headers in their order, Content-Type last before the body, CRLF
// line ends, and the end-line. A nil Body gives a bodiless request whose
// end-line follows the headers directly (RFC 4975 section 7.1).
//
// It refuses a body that contains the chunk's own end-line
// (ErrEndLineInBody) and any message it could not write correctly.
func (m *Message) AppendTo(dst []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return dst, err
	}
	dst = append(dst, "MSRP "...)
	dst = append(dst, m.TransactionID...)
	dst = append(dst, ' ')
	if m.Method != "" {
		dst = append(dst, m.Method...)
	} else {
		dst = append(dst, byte('0'+m.StatusCode/100), byte('0'+m.StatusCode/10%10), byte('0'+m.StatusCode%10))
		if m.Comment != "" {
			dst = append(dst, ' ')
			dst = append(dst, m.Comment...)
		}
	}
	dst = append(dst, "\r\n"...)
	dst = m.appendHeaders(dst, func(name string) bool { return strings.EqualFold(name, HeaderToPath) })
	dst = m.appendHeaders(dst, func(name string) bool { return strings.EqualFold(name, HeaderFromPath) })
	dst = m.appendHeaders(dst, func(name string) bool {
		return !strings.EqualFold(name, HeaderToPath) && !strings.EqualFold(name, HeaderFromPath) &&
			!strings.EqualFold(name, HeaderContentType)
	})
	if m.Body != nil {
		dst = m.appendHeaders(dst, func(name string) bool { return strings.EqualFold(name, HeaderContentType) })
		dst = append(dst, "\r\n"...)
		dst = append(dst, m.Body...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, endLineDashes...)
	dst = append(dst, m.TransactionID...)
	flag := m.Flag
	if flag == 0 {
		flag = FlagComplete
	}
	return append(dst, flag, '\r', '\n'), nil
}

func (m *Message) appendHeaders(dst []byte, want func(string) bool) []byte {
	for _, h := range m.Headers {
		if want(h.Name) {
			dst = append(dst, h.Name...)
			dst = append(dst, ": "...)
			dst = append(dst, h.Value...)
			dst = append(dst, "\r\n"...)
		}
	}
	return dst
}

// check refuses what cannot be written as valid MSRP.
func (m *Message) check() error {
	tid := m.TransactionID
	if tid == "" || len(tid) > maxTIDLen || !isAlphaNum(tid[0]) || !allOf(tid, isIdentChar) {
		return errNoTransactionID
	}
	if m.Method != "" && !allOf(m.Method, isAlpha) {
		return errNoMethod
	}
	if m.Method == "" && (m.StatusCode < 100 || m.StatusCode > 999) {
		return errBadStatus
	}
	if strings.ContainsAny(m.Comment, "\r\n") {
		return errBadHeaderValue
	}
	if m.Flag != 0 && !isFlag(m.Flag) {
		return errBadFlag
	}
	for _, h := range m.Headers {
		if h.Name == "" || !allOf(h.Name, isTokenChar) {
			return errBadHeaderName
		}
		if strings.ContainsAny(h.Value, "\r\n") {
			return errBadHeaderValue
		}
		if m.Body == nil && strings.EqualFold(h.Name, HeaderContentType) {
			return errContentTypeNoBody
		}
	}
	if m.Body != nil && containsEndLine(m.Body, tid) {
		return ErrEndLineInBody
	}
	return nil
}

// containsEndLine reports whether body holds "-------" followed by tid,
// which a receiver could take for the end-line.
func containsEndLine(body []byte, tid string) bool {
	for from := 0; ; {
		i := bytes.Index(body[from:], []byte(endLineDashes))
		if i < 0 {
			return false
		}
		i += from
		if strings.HasPrefix(string(body[i+len(endLineDashes):]), tid) {
			return true
		}
		from = i + 1
	}
}

// Writer writes messages to a byte stream, one whole chunk per call.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteMessage writes m as one chunk with a single Write call.
func (w *Writer) WriteMessage(m *Message) error {
	buf, err := m.AppendTo(w.buf[:0])
	if err != nil {
		return err
	}
	if cap(buf) <= 1<<20 {
		w.buf = buf // keep a moderate buffer for the next message
	}
	_, err = w.w.Write(buf)
	return err
}
