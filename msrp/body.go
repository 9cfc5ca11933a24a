package msrp

import (
	"bytes"
	"errors"
	"io"
)

// NextBody returns the next piece of the current body, at most max bytes
// (max <= 0 means as much as is buffered). The piece is valid until the next
// call on r. At the end-line it returns io.EOF and Flag tells how the chunk
// ended; outside a body it returns io.EOF at once.
func (r *Reader) NextBody(max int) ([]byte, error) {
	piece, last, err := r.nextPiece(max, false)
	if err == nil && last {
		err = io.EOF
	}
	return piece, err
}

// NextPiece is NextBody for relays: it also tells whether the piece ends
// the body. When the end-line already sits in the buffer right after the
// piece, it is consumed with it and last is true, so a small chunk comes
// out as one piece; otherwise a later call returns an empty last piece.
// Flag is valid once last is true.
func (r *Reader) NextPiece(max int) (piece []byte, last bool, err error) {
	return r.nextPiece(max, true)
}

// nextPiece scans the buffered body once per call. With withEnd, a piece
// followed by its end-line is returned together with it (last set);
// otherwise the end-line is a call of its own, as io.Reader users expect.
func (r *Reader) nextPiece(max int, withEnd bool) (piece []byte, last bool, err error) {
	if r.err != nil {
		return nil, false, r.err
	}
	if r.state != stateBody {
		return nil, true, nil
	}
	for {
		data, _ := r.br.Peek(r.br.Buffered())
		if limit := max + len(r.marker) + 1; max > 0 && len(data) > limit {
			// Enough to see an end-line right after a max-byte piece; the
			// rest is scanned by later calls, not again by every call.
			data = data[:limit]
		}
		n, endLen, need := r.scanBody(data)
		if endLen > 0 && (n == 0 || withEnd && (max <= 0 || n <= max)) {
			r.state = stateHead
			r.flag = data[n+endLen-1]
			if _, err := r.br.Discard(n + endLen); err != nil {
				return nil, false, err
			}
			if n == 0 {
				return nil, true, nil
			}
			r.atStart = false
			return data[:n], true, nil
		}
		if n > 0 {
			if max > 0 && n > max {
				n = max
			}
			r.atStart = false
			_, err := r.br.Discard(n)
			return data[:n], false, err
		}
		// need is at most an end-line's length, far below the buffer size.
		if _, err := r.br.Peek(len(data) + need); err != nil {
			if errors.Is(err, io.EOF) {
				r.err = fatalf(string(r.marker[9:]), "connection ended inside a body")
				return nil, false, r.err
			}
			return nil, false, err
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
	// A prefix of the marker may sit at the end of data; it starts with
	// the marker's CR, so only the last len(m)-1 bytes need a look.
	tail := max(0, len(data)-(len(m)-1))
	for i := tail; i < len(data); i++ {
		if data[i] == '\r' && bytes.HasPrefix(m, data[i:]) {
			if i == 0 {
				return 0, 0, 1
			}
			return i, 0, 0
		}
	}
	if len(data) == 0 {
		return 0, 0, 1
	}
	return len(data), 0, 0
}

// Read reads body bytes of the current chunk into p, returning io.EOF at
// its end-line, so the body can be used as an io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		// NextBody(0) would consume a whole piece that p cannot hold.
		return 0, nil
	}
	piece, err := r.NextBody(len(p))
	return copy(p, piece), err
}

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
