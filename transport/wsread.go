package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/keepalive"
)

// WebSocket frames are read here (RFC 6455 section 5), not by a library:
// a library keeps a connection object and a read buffer for every
// connection, idle or not, and a relay holds thousands of idle ones. Here
// an idle connection keeps only the fields of wsReader in its Conn: the
// frame header is read into a small array, and a read-ahead buffer is
// taken from a pool only while input is waiting. A data message is not
// gathered: its payload is handed to the caller as it arrives (wsRead),
// into whatever buffer the caller reads it with (wsmsrp.go parses MSRP
// from it), so a message of any size costs a constant amount of memory.
//
// gorilla/websocket still runs the server handshake (websocket.go) and
// supplies the *websocket.CloseError a peer's Close frame is reported as,
// so that callers matching on it keep working.

// aheadSize is the read-ahead buffer: a burst of small frames.
const aheadSize = 16 << 10

var aheadPool = sync.Pool{New: func() any { return new([aheadSize]byte) }}

// wsReader is the input side of a WebSocket connection, owned by the
// reader goroutine. Its zero value reads straight from the connection.
type wsReader struct {
	// raw is the socket of a plain TCP connection, set for read-ahead:
	// through it the reader waits for input without holding a buffer,
	// and then takes all that has arrived in one system call. TLS has no
	// read-ahead of ours: crypto/tls buffers whole records itself.
	raw syscall.RawConn
	// readFD is r.readAhead, bound once: a method value made for every
	// raw.Read would be an allocation per frame.
	readFD func(fd uintptr) bool
	ahead  *[aheadSize]byte // nil while nothing is buffered
	pos    int32            // ahead[pos:end] is not consumed yet
	end    int32
	errno  syscall.Errno // error of the last read-ahead
	hdr    [maxFrameHeader]byte

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

// preload buffers b, bytes read past the handshake, to be read first.
// b must fit the read-ahead buffer (the handshake's bufio.Reader is
// smaller).
func (r *wsReader) preload(b []byte) {
	if len(b) == 0 {
		return
	}
	r.ahead = aheadPool.Get().(*[aheadSize]byte)
	r.pos, r.end = 0, int32(copy(r.ahead[:], b))
}

// buffered returns the read-ahead not consumed yet.
func (r *wsReader) buffered() []byte {
	if r.ahead == nil {
		return nil
	}
	return r.ahead[r.pos:r.end]
}

// consume marks n buffered bytes as read. A drained read-ahead buffer goes
// back to the pool at once, so that an idle connection holds none.
func (r *wsReader) consume(n int) {
	if r.pos += int32(n); r.pos == r.end {
		r.release()
	}
}

// release returns the read-ahead buffer, dropping what it still holds.
func (r *wsReader) release() {
	if r.ahead != nil {
		aheadPool.Put(r.ahead)
		r.ahead, r.pos, r.end = nil, 0, 0
	}
}

// read reads up to len(p) bytes: buffered ones if there are any, else from
// nc after calling before, the hook that releases the relay's holds just
// before the reader may wait for the network (SetBeforeRead). On plain TCP
// a read smaller than the read-ahead buffer goes through it, so that one
// system call takes a burst of small frames; a larger one (the rest of a
// big payload) goes straight into p.
func (r *wsReader) read(nc net.Conn, p []byte, before func()) (int, error) {
	if b := r.buffered(); len(b) > 0 {
		n := copy(p, b)
		r.consume(n)
		return n, nil
	}
	if before != nil {
		before()
	}
	if r.raw == nil || len(p) >= aheadSize {
		return nc.Read(p)
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
func (r *wsReader) readFull(nc net.Conn, p []byte, before func()) error {
	for n := 0; n < len(p); {
		m, err := r.read(nc, p[n:], before)
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

// fill waits until the socket has input and reads all it holds, up to
// aheadSize, into a pooled buffer. The buffer is taken only once input is
// there, so an idle connection waits without one; read deadlines and a
// concurrent Close end the wait as they end any read.
func (r *wsReader) fill() error {
	err := r.raw.Read(r.readFD)
	switch {
	case err != nil:
	case r.errno != 0:
		err = os.NewSyscallError("read", r.errno)
	case r.end == 0:
		err = io.EOF
	default:
		return nil
	}
	r.release()
	return err
}

// wsHeader is a parsed frame header (RFC 6455 section 5.2).
type wsHeader struct {
	fin    bool
	opcode byte
	masked bool
	key    uint32 // masking key, bytes in wire order
	length int64
}

// maxControlPayload bounds the payload of a control frame (RFC 6455
// section 5.5).
const maxControlPayload = 125

// wsError is the peer breaking RFC 6455. The connection fails with a
// Close frame carrying code: 1002 (protocol error) or 1009 (message too
// big), and ReasonProtocolError.
type wsError struct {
	code   int
	reason string
}

func (e *wsError) Error() string { return "websocket: " + e.reason }

func protocolError(reason string) error {
	return &wsError{code: websocket.CloseProtocolError, reason: reason}
}

// wsNextMessage reads frames until a text or binary frame begins the next
// data message (RFC 6455 section 5.4), handling the control frames that
// come before it (section 5.5). It holds no buffer while it waits. Any
// error is fatal to the connection.
func (c *Conn) wsNextMessage() error {
	r := &c.wsr
	for {
		h, err := c.wsFrameHeader(false)
		if err != nil {
			r.release()
			return err
		}
		if h.opcode >= opClose {
			if err := c.wsControl(h); err != nil {
				r.release()
				return err
			}
			continue
		}
		// Text frames are not checked for UTF-8: RFC 7977 section 4.2
		// lets text and binary frames alike carry MSRP, whose bodies are
		// any bytes; gorilla did not check either.
		r.inMsg, r.msgLen = true, 0
		return c.wsBeginFrame(h)
	}
}

// wsBeginFrame makes data frame h the current frame of the message.
func (c *Conn) wsBeginFrame(h wsHeader) error {
	r := &c.wsr
	if h.length > c.h.readLimit-r.msgLen {
		return &wsError{code: websocket.CloseMessageTooBig,
			reason: "message exceeds the read limit of " + strconv.FormatInt(c.h.readLimit, 10) + " bytes"}
	}
	r.msgLen += h.length
	r.fin, r.masked, r.key, r.kpos, r.left = h.fin, h.masked, h.key, 0, h.length
	return nil
}

// wsRead reads payload bytes of the current data message into p,
// unmasked: from the current frame and then from the message's
// continuation frames, handling the control frames between them. It
// returns io.EOF, maybe with n > 0, once the message's last byte is read;
// it never returns 0 and nil for a non-empty p. Other errors are fatal.
func (c *Conn) wsRead(p []byte) (int, error) {
	r := &c.wsr
	for r.left == 0 {
		if r.fin || !r.inMsg {
			r.inMsg = false
			return 0, io.EOF
		}
		h, err := c.wsFrameHeader(true)
		if err != nil {
			r.release()
			return 0, err
		}
		if h.opcode >= opClose {
			if err := c.wsControl(h); err != nil {
				r.release()
				return 0, err
			}
			continue
		}
		if err := c.wsBeginFrame(h); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.read(c.nc, p, c.hook)
	if r.masked {
		r.kpos = maskBytes(p[:n], r.key, r.kpos)
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
	r.release()
	return 0, unexpectedEOF(err)
}

// wsKnownLeft returns how many payload bytes of the message are still to
// be read, when the current frame is its last (the count is known);
// otherwise ok is false.
func (c *Conn) wsKnownLeft() (n int64, ok bool) {
	r := &c.wsr
	if !r.inMsg {
		return 0, true
	}
	return r.left, r.fin
}

// wsFrameHeader reads and checks a frame header, 2 to 14 bytes read into
// the reader's small array. inMessage says whether a fragmented message
// is in progress.
func (c *Conn) wsFrameHeader(inMessage bool) (wsHeader, error) {
	r := &c.wsr
	b := r.hdr[:]
	if err := r.readFull(c.nc, b[:2], c.hook); err != nil {
		return wsHeader{}, err
	}
	h := wsHeader{fin: b[0]&0x80 != 0, opcode: b[0] & 0x0f, masked: b[1]&0x80 != 0, length: int64(b[1] & 0x7f)}
	if err := c.checkFrame(b[0], h, inMessage); err != nil {
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
	if err := r.readFull(c.nc, b[2:2+n], c.hook); err != nil {
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

// checkFrame checks what the first two header bytes tell, before the rest
// of the header is read: b0 is the first byte (for the RSV bits), and h
// holds the fields of both, its length still the 7-bit code.
func (c *Conn) checkFrame(b0 byte, h wsHeader, inMessage bool) error {
	switch {
	case b0&0x70 != 0:
		return protocolError("reserved bits set in a frame header, but no extension was negotiated")
	case c.client && h.masked:
		return protocolError("masked frame from the server") // section 5.1
	case !c.client && !h.masked:
		return protocolError("unmasked frame from the client") // section 5.1
	}
	switch h.opcode {
	case opClose, opPing, opPong:
		if !h.fin {
			return opcodeError("fragmented control frame", h.opcode)
		}
		if h.length > maxControlPayload {
			return opcodeError("control frame with a payload over 125 bytes", h.opcode)
		}
	case opText, opBinary:
		if inMessage {
			return opcodeError("data frame inside a fragmented message", h.opcode)
		}
	case opContinuation:
		if !inMessage {
			return protocolError("continuation frame without a message to continue")
		}
	default:
		return opcodeError("unknown opcode", h.opcode)
	}
	return nil
}

func opcodeError(what string, opcode byte) error {
	return protocolError(what + " (opcode " + strconv.Itoa(int(opcode)) + ")")
}

// wsControl handles control frame h at once, also between the fragments
// of a message (RFC 6455 section 5.5).
func (c *Conn) wsControl(h wsHeader) error {
	var bp *[]byte
	var payload []byte
	if h.length > 0 {
		// Pooled: a small array here would escape through net.Conn.Read,
		// an allocation for every Ping.
		bp = getBuf()
		payload = slices.Grow((*bp)[:0], maxControlPayload)[:h.length]
		if err := c.wsr.readFull(c.nc, payload, c.hook); err != nil {
			putBuf(bp)
			return unexpectedEOF(err)
		}
		if h.masked {
			maskBytes(payload, h.key, 0)
		}
	}
	var err error
	switch h.opcode {
	case opPing:
		err = c.onPing(payload)
	case opPong:
		c.keeper.Pong()
	default:
		err = c.onClose(payload)
	}
	if bp != nil {
		putBuf(bp)
	}
	return err
}

// onPing answers a Ping frame with a Pong carrying its payload through our
// write path (between whole frames), unless the peer floods.
func (c *Conn) onPing(payload []byte) error {
	c.keeper.Received()
	if !c.limiter.Allow(time.Now(), &c.h.cfg.Keepalive) {
		return c.flood("Ping frames")
	}
	err := c.writeControl(opPong, payload, c.h.cfg.WriteTimeout)
	if err == nil {
		c.counters.Add(keepalive.PingAnswered)
		c.h.totals.Add(keepalive.PingAnswered)
		return nil
	}
	// Declared here, not above: errors.As moves it to the heap, an
	// allocation for every Ping.
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil // a late Pong is no reason to fail, as with gorilla's handler
	}
	return err
}

// onClose answers the peer's Close frame with one echoing its status code
// (RFC 6455 section 5.5.1; 1000 when it had none) and returns the
// *websocket.CloseError that ends the read: the connection then closes as
// ReasonPeerClosed.
func (c *Conn) onClose(payload []byte) error {
	code, text := websocket.CloseNoStatusReceived, ""
	switch {
	case len(payload) == 1:
		return protocolError("close frame with a 1-byte payload")
	case len(payload) >= 2:
		code, text = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
		if !validCloseCode(code) {
			return protocolError("close frame with status code " + strconv.Itoa(code))
		}
		if !utf8.ValidString(text) {
			return protocolError("close frame reason is not UTF-8") // section 5.5.1
		}
	}
	echo := code
	if echo == websocket.CloseNoStatusReceived {
		echo = websocket.CloseNormalClosure
	}
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], uint16(echo))
	_ = c.writeControl(opClose, b[:], closeWait)
	return &websocket.CloseError{Code: code, Text: text}
}

// validCloseCode reports whether a peer may send code in a Close frame
// (RFC 6455 section 7.4 and the IANA registry): 1004-1006 and 1015 are
// reserved, 3000-4999 are for libraries and applications.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	}
	return code >= 3000 && code <= 4999
}

// unexpectedEOF turns the end of input inside a frame into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
