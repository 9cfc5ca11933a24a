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

// NextPiece is NextBody for relays. It never returns an empty piece
// unless the whole body is empty, and the piece it returns with last set
// (consuming the end-line with it; Flag is then valid) carries data: a
// relay re-chunks without empty chunks, and the chunk's flag goes with
// data. A chunk whose Byte-Range says it fits one piece of size bytes,
// and is at most 16 KiB, comes out as one piece however the input was
// split, and so does one without a Byte-Range (a whole message, usually
// small). A larger chunk, or one whose range ends in "*", streams:
// whatever body bytes have arrived, at least wholeFloor of them and at
// most size, less the last one, which is held back until it is known
// whether the end-line follows.
// size <= 0, or above the Reader's capacity (64 KiB, or maxHeader when
// that is larger), means the capacity.
//
// Waiting for every piece of a large chunk to fill cost a copy of each
// byte inside the read buffer and smaller reads: 64 KiB chunks over TCP
// took 31 % more relay CPU per byte. Small chunks are where splitting
// costs most (a transaction, and a REPORT on failure, per piece).
func (r *Reader) NextPiece(size int) (piece []byte, last bool, err error) {
	if c := r.br.Size() - endLineRoom; size <= 0 || size > c {
		size = c
	}
	return r.nextPiece(size, true)
}

// wholeFloor is the smallest piece NextPiece streams before the end of a
// large chunk: RFC 4975 section 7.1 asks senders not to cut chunks below
// 2048 bytes, except the last.
const wholeFloor = 2048

// wholeMax is the largest chunk NextPiece always returns whole.
const wholeMax = 16 << 10

// nextPiece scans the buffered body once per call. With whole (NextPiece),
// it returns only pieces of size bytes or the last piece together with its
// end-line; without (NextBody), whatever body bytes are certain, up to
// size (size <= 0: no bound), and the end-line in a call of its own, as
// io.Reader users expect.
func (r *Reader) nextPiece(size int, whole bool) (piece []byte, last bool, err error) {
	if r.err != nil {
		return nil, false, r.err
	}
	if r.state != stateBody {
		return nil, true, nil
	}
	known := 0 // leading buffered bytes already known to be body
	for {
		data, _ := r.br.Peek(r.br.Buffered())
		limit := r.br.Size()
		if size > 0 {
			// Enough to see an end-line right after a size-byte piece; the
			// rest is scanned by later calls, not again by every call.
			limit = size + len(r.end.marker) + 1
			data = data[:min(len(data), limit)]
		}
		n, endLen, need := r.end.Scan(data, known)
		if endLen > 0 && (n == 0 || whole && n <= size) {
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
		stream := whole && (r.left == -1 || r.left > int64(min(size, wholeMax))) && n > min(wholeFloor, size)
		if n > 0 && (!whole || n > size) || stream {
			switch {
			case size > 0 && n > size:
				n = size
			case stream:
				n-- // held back: the end-line may follow it
			}
			r.end.Consumed(n)
			if r.left > 0 {
				r.left -= int64(n)
			}
			_, err := r.br.Discard(n)
			return data[:n], false, err
		}
		// Not enough to decide: read more. need is at most an end-line's
		// length; data is shorter than limit here, which fits the buffer.
		known = n
		more := min(len(data)+max(need, 1), limit)
		if _, err := r.br.Peek(more); err != nil {
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
