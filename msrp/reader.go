package msrp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxHeader is the default bound on a chunk's header block (start
// line and headers).
const DefaultMaxHeader = 16 << 10

// minBuffer is the smallest read buffer; body pieces are at most this long.
const minBuffer = 64 << 10

type readState int

const (
	stateHead readState = iota // next is a start line
	stateBody                  // inside a body, before its end-line
)

// Reader reads MSRP chunks from a byte stream such as a TCP or TLS
// connection. It reads a chunk's header block with ReadHeader and then its
// body in pieces, so a chunk never has to be held in memory whole. Input may
// arrive split at any byte.
//
// Blank lines between chunks are skipped (some peers send CRLF
// keepalives). A body ends at the first CRLF followed by "-------", the
// chunk's transaction id and a flag; end-lines with another transaction id
// are body.
type Reader struct {
	br        *bufio.Reader
	maxHeader int
	state     readState
	marker    []byte // "\r\n-------" + transaction id
	atStart   bool   // no body byte returned yet
	flag      byte
}

// NewReader returns a Reader that reads from r with a header block limit
// of maxHeader bytes (0 means DefaultMaxHeader).
func NewReader(r io.Reader, maxHeader int) *Reader {
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeader
	}
	size := minBuffer
	if maxHeader+1 > size {
		size = maxHeader + 1
	}
	return &Reader{br: bufio.NewReaderSize(r, size), maxHeader: maxHeader}
}

// ReadHeader reads the next chunk's start line and headers, first skipping
// whatever is left of the previous chunk's body.
//
// The returned Message has a nil Body for a bodiless request (its end-line
// has been read and its Flag is set) and an empty non-nil Body when a body
// follows, to be read with NextBody or Read.
//
// A non-fatal *ParseError comes with the Message, so the caller can answer
// it; the chunk's body is skipped by the next call. A fatal error or an I/O
// error ends the stream. A clean end of input between chunks is io.EOF.
func (r *Reader) ReadHeader() (*Message, error) {
	if r.state == stateBody {
		if err := r.skipBody(); err != nil {
			return nil, err
		}
	}
	if err := r.skipBlankLines(); err != nil {
		return nil, err
	}
	var s headScan
	for {
		data, _ := r.br.Peek(r.br.Buffered())
		res, err := s.scan(data, r.maxHeader)
		if err != nil {
			return nil, err
		}
		if res != headMore {
			break
		}
		if _, err := r.br.Peek(len(data) + 1); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fatalf("", "connection ended inside a header block")
			}
			return nil, err
		}
	}
	data, _ := r.br.Peek(s.next)
	m, perr := parseHead(string(data[:s.blockEnd]))
	if _, err := r.br.Discard(s.next); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, perr
	}
	if s.flag != 0 {
		m.Flag = s.flag
		r.flag = s.flag
	} else {
		m.Body = []byte{}
		r.state = stateBody
		r.marker = append(append(r.marker[:0], "\r\n"+endLineDashes...), m.TransactionID...)
		r.atStart = true
		r.flag = 0
	}
	if perr != nil {
		return m, perr
	}
	return m, nil
}

func (r *Reader) skipBlankLines() error {
	for {
		data, err := r.br.Peek(1)
		if err != nil {
			return err // io.EOF here is a clean end between chunks
		}
		if data[0] != '\r' && data[0] != '\n' {
			return nil
		}
		if _, err := r.br.Discard(1); err != nil {
			return err
		}
	}
}

// NextBody returns the next piece of the current body, at most max bytes
// (max <= 0 means as much as is buffered). The piece is valid until the next
// call on r. At the end-line it returns io.EOF and Flag tells how the chunk
// ended.
func (r *Reader) NextBody(max int) ([]byte, error) {
	if r.state != stateBody {
		return nil, io.EOF
	}
	for {
		data, _ := r.br.Peek(r.br.Buffered())
		n, endLen, need := r.scanBody(data)
		if endLen > 0 && n == 0 {
			r.state = stateHead
			r.flag = data[endLen-1]
			if _, err := r.br.Discard(endLen); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		if n > 0 {
			if max > 0 && n > max {
				n = max
			}
			r.atStart = false
			piece := data[:n]
			_, err := r.br.Discard(n)
			return piece, err
		}
		if _, err := r.br.Peek(len(data) + need); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fatalf(string(r.marker[9:]), "connection ended inside a body")
			}
			return nil, err
		}
	}
}

// scanBody looks at buffered body bytes. It returns how many bytes are
// certainly body (n); endLen > 0 when an end-line of that many bytes (its
// flag last) starts at data[n]; otherwise need > 0 tells how many more
// bytes it takes to decide.
func (r *Reader) scanBody(data []byte) (n, endLen, need int) {
	m := r.marker
	if r.atStart {
		// Lenient: an empty body whose end-line lacks the CRLF before it.
		bare := m[2:]
		if len(data) > len(bare) && bytes.HasPrefix(data, bare) && isFlag(data[len(bare)]) {
			return 0, len(bare) + 1, 0
		}
		if len(data) <= len(bare) && bytes.HasPrefix(bare, data) {
			return 0, 0, 1
		}
	}
	from := 0
	for {
		i := bytes.Index(data[from:], m)
		if i < 0 {
			break
		}
		i += from
		if i+len(m) >= len(data) {
			// The flag is not here yet: whatever precedes is body.
			if i > 0 {
				return i, 0, 0
			}
			return 0, 0, 1
		}
		if isFlag(data[i+len(m)]) {
			return i, len(m) + 1, 0
		}
		from = i + 1
	}
	// A prefix of the marker may sit at the end of data.
	k := len(m) - 1
	if k > len(data) {
		k = len(data)
	}
	for ; k > 0; k-- {
		if bytes.HasPrefix(m, data[len(data)-k:]) {
			break
		}
	}
	if len(data) > k {
		return len(data) - k, 0, 0
	}
	return 0, 0, 1
}

// Read reads body bytes of the current chunk into p, returning io.EOF at
// its end-line, so the body can be used as an io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	piece, err := r.NextBody(len(p))
	return copy(p, piece), err
}

// Flag returns the continuation flag of the last end-line read.
func (r *Reader) Flag() byte { return r.flag }

func (r *Reader) skipBody() error {
	for {
		_, err := r.NextBody(0)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ReadMessage reads a whole chunk, header and body. A body longer than
// maxBody bytes (0 means no limit) gives a non-fatal *ParseError with code
// 413 together with the Message; the rest of that body is skipped by the
// next read.
func (r *Reader) ReadMessage(maxBody int) (*Message, error) {
	m, err := r.ReadHeader()
	if err != nil || m.Body == nil {
		return m, err
	}
	var body []byte
	for {
		piece, err := r.NextBody(0)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if maxBody > 0 && len(body)+len(piece) > maxBody {
			return m, &ParseError{Code: 413, TransactionID: m.TransactionID, Reason: "body exceeds limit"}
		}
		if body == nil {
			// One allocation for the usual chunk that arrives whole.
			body = make([]byte, 0, len(piece))
		}
		body = append(body, piece...)
	}
	if body == nil {
		body = []byte{}
	}
	m.Body = body
	m.Flag = r.flag
	return m, nil
}
