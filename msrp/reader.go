package msrp

import (
	"bufio"
	"errors"
	"io"
)

// DefaultMaxHeader is the default bound on a chunk's header block (start
// line and headers).
const DefaultMaxHeader = 16 << 10

// minBuffer is the smallest read buffer's room for body bytes: NextPiece
// returns pieces of up to this many bytes.
const minBuffer = 64 << 10

// endLineRoom is what a read buffer holds beyond its largest piece, so a
// piece and the end-line after it (CRLF, seven dashes, a transaction id
// of at most 32 characters, the flag) can be seen together.
const endLineRoom = 64

type readState int

const (
	stateHead readState = iota // next is a start line
	stateBody                  // inside a body, before its end-line
)

// Reader reads MSRP chunks from a byte stream such as a TCP or TLS
// connection. It reads a chunk's header block with ReadHeader and then its
// body in pieces, so a chunk never has to be held in memory whole. Input may
// arrive split at any byte. The Reader holds at most one buffer of
// max(64 KiB, maxHeader+1) bytes and a few more, whatever the peer sends.
//
// Blank lines between chunks are skipped (some peers send CRLF
// keepalives). A body ends at the first CRLF followed by "-------", the
// chunk's transaction id and a flag; end-lines with another transaction id
// are body.
//
// After a fatal *ParseError every call returns that error again: the
// framing is lost. Other I/O errors are returned as they come and leave the
// Reader where it was.
type Reader struct {
	br        *bufio.Reader
	maxHeader int
	state     readState
	end       EndScanner
	// left is what the chunk's Byte-Range says is left of its body, or
	// -1 when it does not say (see NextPiece).
	left int64
	flag byte
	err  error // sticky fatal *ParseError
}

// NewReader returns a Reader that reads from r with a header block limit
// of maxHeader bytes (0 means DefaultMaxHeader).
func NewReader(r io.Reader, maxHeader int) *Reader {
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeader
	}
	size := max(minBuffer, maxHeader+1) + endLineRoom
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
// A header block over the limit is a fatal 413 that comes with the start
// line and the header lines before the limit when they hold the paths a
// response needs (see HeadScanner.Scan): the caller may answer before it
// closes.
func (r *Reader) ReadHeader() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	m, err := r.readHeader()
	r.keep(err)
	return m, err
}

func (r *Reader) readHeader() (*Message, error) {
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
			return s.partial(data, err), err
		}
		if res != headMore {
			break
		}
		// scan asks for more only below maxHeader, which fits the buffer.
		if _, err := r.br.Peek(len(data) + 1); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fatalf("", "connection ended inside a header block")
			}
			return nil, err
		}
	}
	data, _ := r.br.Peek(s.next)
	bodiless := s.flag != 0
	m, perr := s.message(data, bodiless)
	if _, err := r.br.Discard(s.next); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, perr
	}
	if bodiless {
		r.flag = s.flag
	} else {
		r.state = stateBody
		r.end.Reset(m.TransactionID)
		r.flag = 0
		r.left = -2
		if br, ok, err := m.ByteRange(); ok && err == nil {
			r.left = -1
			if br.End != Unknown {
				r.left = br.End - br.Start + 1
			}
		}
	}
	if perr != nil {
		return m, perr
	}
	return m, nil
}

// keep makes a fatal ParseError sticky. The Reader's own errors are never
// wrapped, so a type assertion suffices (and, unlike errors.As, does not
// allocate on every call).
func (r *Reader) keep(err error) {
	if pe, ok := err.(*ParseError); ok && pe.Fatal {
		r.err = err
	}
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

// Flag returns the continuation flag of the last end-line read.
func (r *Reader) Flag() byte { return r.flag }

// ReadMessage reads a whole chunk, header and body. A body longer than
// maxBody bytes (0 means no limit) gives a non-fatal 413 *ParseError that
// wraps ErrBodyTooLarge, together with the Message; the rest of that body
// is skipped by the next read.
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
			return m, &ParseError{Code: 413, TransactionID: m.TransactionID, Reason: "body exceeds limit", err: ErrBodyTooLarge}
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

// InChunk tells where the Reader stands between reads: header when bytes
// of a header block are buffered, body while a body is being read (its
// end-line not seen yet); both false between chunks. A caller may use it
// to bound how long a peer takes to finish a chunk it has begun.
func (r *Reader) InChunk() (header, body bool) {
	if r.state == stateBody {
		return false, true
	}
	return r.br.Buffered() > 0, false
}
