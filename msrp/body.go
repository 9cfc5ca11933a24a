package msrp

import (
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
		if limit := max + len(r.end.marker) + 1; max > 0 && len(data) > limit {
			// Enough to see an end-line right after a max-byte piece; the
			// rest is scanned by later calls, not again by every call.
			data = data[:limit]
		}
		n, endLen, need := r.end.Scan(data)
		if endLen > 0 && (n == 0 || withEnd && (max <= 0 || n <= max)) {
			r.state = stateHead
			r.flag = data[n+endLen-1]
			if _, err := r.br.Discard(n + endLen); err != nil {
				return nil, false, err
			}
			if n == 0 {
				return nil, true, nil
			}
			r.end.Consumed(n)
			return data[:n], true, nil
		}
		if n > 0 {
			if max > 0 && n > max {
				n = max
			}
			r.end.Consumed(n)
			_, err := r.br.Discard(n)
			return data[:n], false, err
		}
		// need is at most an end-line's length, far below the buffer size.
		if _, err := r.br.Peek(len(data) + need); err != nil {
			if errors.Is(err, io.EOF) {
				r.err = fatalf(r.end.TransactionID(), "connection ended inside a body")
				return nil, false, r.err
			}
			return nil, false, err
		}
	}
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
