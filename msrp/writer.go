package msrp

import (
	"bytes"
	"errors"
	"io"
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
	dst, err := m.AppendHead(dst)
	if err != nil {
		return dst, err
	}
	if m.Body != nil {
		dst = append(dst, m.Body...)
		dst = m.AppendTail(dst)
	}
	return dst, nil
}

// AppendHead appends what comes before the body: the start line, the
// headers and the blank line; for a bodiless request, the whole chunk.
// Together with the Body and AppendTail it gives AppendTo's bytes, so a
// writer can hand the body to the kernel without copying it (writev).
// It checks m as AppendTo does.
func (m *Message) AppendHead(dst []byte) ([]byte, error) {
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
	dst = m.appendHeaders(dst, func(name string) bool { return isHeader(name, HeaderToPath) })
	dst = m.appendHeaders(dst, func(name string) bool { return isHeader(name, HeaderFromPath) })
	dst = m.appendHeaders(dst, func(name string) bool {
		return !isHeader(name, HeaderToPath) && !isHeader(name, HeaderFromPath) &&
			!isHeader(name, HeaderContentType)
	})
	if m.Body == nil {
		return m.appendEndLine(dst), nil
	}
	dst = m.appendHeaders(dst, func(name string) bool { return isHeader(name, HeaderContentType) })
	return append(dst, "\r\n"...), nil
}

// AppendTail appends what follows the body of a chunk that has one: the
// CRLF and the end-line.
func (m *Message) AppendTail(dst []byte) []byte {
	return m.appendEndLine(append(dst, "\r\n"...))
}

func (m *Message) appendEndLine(dst []byte) []byte {
	dst = append(dst, endLineDashes...)
	dst = append(dst, m.TransactionID...)
	flag := m.Flag
	if flag == 0 {
		flag = FlagComplete
	}
	return append(dst, flag, '\r', '\n')
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
	if !isText(m.Comment) {
		return errBadHeaderValue
	}
	if m.Flag != 0 && !isFlag(m.Flag) {
		return errBadFlag
	}
	for _, h := range m.Headers {
		if !isHeaderName(h.Name) {
			return errBadHeaderName
		}
		if !isText(h.Value) {
			return errBadHeaderValue
		}
		if m.Body == nil && isHeader(h.Name, HeaderContentType) {
			return errContentTypeNoBody
		}
	}
	if m.Body != nil && containsEndLine(m.Body, tid) {
		return ErrEndLineInBody
	}
	return nil
}

// containsEndLine reports whether body holds "-------", tid and a flag,
// which a receiver could take for the end-line. Without the CRLF in front
// it is no end-line, but a body that begins with it would read as an empty
// body (Reader and Parse accept a bare end-line there), so refuse it
// anywhere; dashes and tid followed by anything else are fine.
func containsEndLine(body []byte, tid string) bool {
	for from := 0; ; {
		i := bytes.Index(body[from:], dashes)
		if i < 0 {
			return false
		}
		i += from
		if isEndLine(body[i:], tid) {
			return true
		}
		from = i + 1
	}
}

var dashes = []byte(endLineDashes)

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
