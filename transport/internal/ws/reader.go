package ws

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
)

// aheadSize is the read-ahead buffer: a burst of small frames.
const aheadSize = 16 << 10

var aheadPool = sync.Pool{New: func() any { return new([aheadSize]byte) }}

// controlPool holds the buffers control frames' payloads are read into:
// a small array would escape through net.Conn.Read, an allocation for
// every Ping.
var controlPool = sync.Pool{New: func() any { return new([MaxControlPayload]byte) }}

// Handler is what a Reader calls, on its goroutine.
type Handler interface {
	// BeforeRead runs just before the Reader may wait for network input.
	BeforeRead()
	// Control handles a control frame (OpPing, OpPong or OpClose) as the
	// Reader meets it, also between the fragments of a message (RFC 6455
	// section 5.5). payload is unmasked and valid only during the call.
	// An error ends the read: the Reader returns it.
	Control(opcode byte, payload []byte) error
}

// Reader reads the frames of one connection (RFC 6455 section 5): it
// hands out the payload of data messages as it arrives and passes control
// frames to its Handler. Its zero value is not usable: Init it. It belongs
// to one goroutine.
//
// An idle Reader holds no buffer: the frame header is read into a small
// array, and a read-ahead buffer (on Linux, for plain TCP) is taken from
// a pool only while input is waiting. Any error but io.EOF at the end of
// a message is fatal to the connection; an *Error says which Close code
// the peer should get.
type Reader struct {
	nc     net.Conn
	h      Handler
	limit  int64 // bytes a message may have
	client bool  // we are the client: frames must come unmasked

	ra    readAhead        // the system's side of read-ahead, if any
	ahead *[aheadSize]byte // nil while nothing is buffered
	pos   int32            // ahead[pos:end] is not consumed yet
	end   int32
	hdr   [MaxFrameHeader]byte

	// The data message being read (RFC 6455 section 5.4): its current
	// frame, and what the message's frames announced so far.
	inMsg  bool   // a message has begun and its last frame is not all read
	fin    bool   // the current frame is the message's last
	masked bool   // the current frame's payload is masked with key
	key    uint32 // masking key, bytes in wire order
	kpos   int    // position in the current frame's payload, for unmasking
	left   int64  // payload bytes of the current frame not read yet
	msgLen int64  // payload bytes the message's frames announced so far
}

// Init prepares r to read nc. sock is the TCP socket under nc when no TLS
// lies between (nil otherwise): through it the Reader reads ahead. client
// says that we are the client (frames from the server are unmasked, RFC
// 6455 section 5.1). limit bounds a message's payload: a larger one is an
// *Error with code 1009.
func (r *Reader) Init(nc net.Conn, sock *net.TCPConn, client bool, limit int64, h Handler) {
	*r = Reader{nc: nc, h: h, limit: limit, client: client}
	if sock != nil {
		r.initReadAhead(sock)
	}
}

// Preload buffers b, bytes read past the handshake, to be read first.
// b must fit the read-ahead buffer (HandshakeBuffer bounds it).
func (r *Reader) Preload(b []byte) {
	if len(b) == 0 {
		return
	}
	r.ahead = aheadPool.Get().(*[aheadSize]byte)
	r.pos, r.end = 0, int32(copy(r.ahead[:], b))
}

// Buffered returns how many bytes r holds read ahead, not consumed yet;
// 0 when it holds no buffer.
func (r *Reader) Buffered() int { return int(r.end - r.pos) }

// InMessage reports whether a data message has begun whose last byte is
// not read yet.
func (r *Reader) InMessage() bool { return r.inMsg }

// buffered returns the read-ahead not consumed yet.
func (r *Reader) buffered() []byte {
	if r.ahead == nil {
		return nil
	}
	return r.ahead[r.pos:r.end]
}

// consume marks n buffered bytes as read. A drained read-ahead buffer goes
// back to the pool at once, so that an idle connection holds none.
func (r *Reader) consume(n int) {
	if r.pos += int32(n); r.pos == r.end {
		r.Release()
	}
}

// Release returns the read-ahead buffer, dropping what it still holds;
// for a connection that is closed.
func (r *Reader) Release() {
	if r.ahead != nil {
		aheadPool.Put(r.ahead)
		r.ahead, r.pos, r.end = nil, 0, 0
	}
}

// read reads up to len(p) bytes: buffered ones if there are any, else from
// the connection after the Handler's BeforeRead. With read-ahead a read
// smaller than the read-ahead buffer goes through it, so that one system
// call takes a burst of small frames; a larger one (the rest of a big
// payload) goes straight into p.
func (r *Reader) read(p []byte) (int, error) {
	if b := r.buffered(); len(b) > 0 {
		n := copy(p, b)
		r.consume(n)
		return n, nil
	}
	r.h.BeforeRead()
	if !r.canReadAhead() || len(p) >= aheadSize {
		return r.nc.Read(p)
	}
	if err := r.fill(); err != nil {
		return 0, err
	}
	n := copy(p, r.buffered())
	r.consume(n)
	return n, nil
}

// readFull reads exactly len(p) bytes. Like io.ReadFull it returns io.EOF
// only when the input ended before the first byte.
func (r *Reader) readFull(p []byte) error {
	for n := 0; n < len(p); {
		m, err := r.read(p[n:])
		n += m
		if err != nil {
			if n == len(p) {
				return nil
			}
			if n > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// frameHeader is a parsed frame header (RFC 6455 section 5.2).
type frameHeader struct {
	fin    bool
	opcode byte
	masked bool
	key    uint32 // masking key, bytes in wire order
	length int64
}

// NextMessage reads frames until a text or binary frame begins the next
// data message (RFC 6455 section 5.4), handling the control frames that
// come before it. It holds no buffer while it waits. Any error is fatal
// to the connection. The message's payload is then read with Read.
func (r *Reader) NextMessage() error {
	for {
		h, err := r.frameHeader(false)
		if err != nil {
			r.Release()
			return err
		}
		if h.opcode >= OpClose {
			if err := r.control(h); err != nil {
				r.Release()
				return err
			}
			continue
		}
		// Text frames are not checked for UTF-8: RFC 7977 section 4.2
		// lets text and binary frames alike carry MSRP, whose bodies are
		// any bytes.
		r.inMsg, r.msgLen = true, 0
		return r.beginFrame(h)
	}
}

// beginFrame makes data frame h the current frame of the message.
func (r *Reader) beginFrame(h frameHeader) error {
	if h.length > r.limit-r.msgLen {
		return &Error{Code: CloseMessageTooBig,
			Reason: "message exceeds the read limit of " + strconv.FormatInt(r.limit, 10) + " bytes"}
	}
	r.msgLen += h.length
	r.fin, r.masked, r.key, r.kpos, r.left = h.fin, h.masked, h.key, 0, h.length
	return nil
}

// Read reads payload bytes of the current data message into p, unmasked:
// from the current frame and then from the message's continuation frames,
// handling the control frames between them. It returns io.EOF, maybe with
// n > 0, once the message's last byte is read; it never returns 0 and nil
// for a non-empty p. Other errors are fatal.
func (r *Reader) Read(p []byte) (int, error) {
	for r.left == 0 {
		if r.fin || !r.inMsg {
			r.inMsg = false
			return 0, io.EOF
		}
		h, err := r.frameHeader(true)
		if err != nil {
			// The message's last frame is still to come: input that
			// ends here ends inside the message, not at its end.
			r.Release()
			return 0, unexpectedEOF(err)
		}
		if h.opcode >= OpClose {
			if err := r.control(h); err != nil {
				r.Release()
				return 0, err
			}
			continue
		}
		if err := r.beginFrame(h); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.read(p)
	if r.masked {
		r.kpos = Mask(p[:n], r.key, r.kpos)
	}
	r.left -= int64(n)
	switch {
	case r.left == 0 && r.fin:
		r.inMsg = false
		return n, io.EOF // whatever err says shows on the next read
	case n > 0:
		return n, nil
	case err == nil:
		return 0, io.ErrNoProgress // cannot happen: read returns data or an error
	}
	r.Release()
	return 0, unexpectedEOF(err)
}

// KnownLeft returns how many payload bytes of the message are still to be
// read, when the current frame is its last (the count is known);
// otherwise ok is false.
func (r *Reader) KnownLeft() (n int64, ok bool) {
	if !r.inMsg {
		return 0, true
	}
	return r.left, r.fin
}

// frameHeader reads and checks a frame header, 2 to 14 bytes read into
// the Reader's small array. inMessage says whether a fragmented message
// is in progress.
func (r *Reader) frameHeader(inMessage bool) (frameHeader, error) {
	b := r.hdr[:]
	if err := r.readFull(b[:2]); err != nil {
		return frameHeader{}, err
	}
	h := frameHeader{fin: b[0]&0x80 != 0, opcode: b[0] & 0x0f, masked: b[1]&0x80 != 0, length: int64(b[1] & 0x7f)}
	if err := r.check(b[0], h, inMessage); err != nil {
		return h, err
	}
	ext := 0
	switch h.length {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	n := ext
	if h.masked {
		n += 4
	}
	if err := r.readFull(b[2 : 2+n]); err != nil {
		return h, unexpectedEOF(err)
	}
	switch ext {
	case 2:
		h.length = int64(binary.BigEndian.Uint16(b[2:]))
	case 8:
		v := binary.BigEndian.Uint64(b[2:])
		if v>>63 != 0 {
			return h, protocolError("64-bit payload length with the most significant bit set")
		}
		h.length = int64(v)
	}
	if h.masked {
		h.key = binary.BigEndian.Uint32(b[2+ext:])
	}
	return h, nil
}

// check checks what the first two header bytes tell, before the rest of
// the header is read: b0 is the first byte (for the RSV bits), and h
// holds the fields of both, its length still the 7-bit code.
func (r *Reader) check(b0 byte, h frameHeader, inMessage bool) error {
	switch {
	case b0&0x70 != 0:
		return protocolError("reserved bits set in a frame header, but no extension was negotiated")
	case r.client && h.masked:
		return protocolError("masked frame from the server") // section 5.1
	case !r.client && !h.masked:
		return protocolError("unmasked frame from the client") // section 5.1
	}
	switch h.opcode {
	case OpClose, OpPing, OpPong:
		if !h.fin {
			return opcodeError("fragmented control frame", h.opcode)
		}
		if h.length > MaxControlPayload {
			return opcodeError("control frame with a payload over 125 bytes", h.opcode)
		}
	case OpText, OpBinary:
		if inMessage {
			return opcodeError("data frame inside a fragmented message", h.opcode)
		}
	case OpContinuation:
		if !inMessage {
			return protocolError("continuation frame without a message to continue")
		}
	default:
		return opcodeError("unknown opcode", h.opcode)
	}
	return nil
}

// control reads control frame h's payload and hands it to the Handler.
func (r *Reader) control(h frameHeader) error {
	if h.length == 0 {
		return r.h.Control(h.opcode, nil)
	}
	buf := controlPool.Get().(*[MaxControlPayload]byte)
	defer controlPool.Put(buf)
	payload := buf[:h.length]
	if err := r.readFull(payload); err != nil {
		return unexpectedEOF(err)
	}
	if h.masked {
		Mask(payload, h.key, 0)
	}
	return r.h.Control(h.opcode, payload)
}

// unexpectedEOF turns the end of input inside a frame into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
