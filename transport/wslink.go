package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport/internal/ws"
)

// WebSocket frames are read and written by package ws (internal/ws), not
// by a library: a library keeps a connection object and a read buffer for
// every connection, idle or not, and a relay holds thousands of idle
// ones. A Conn's ws.Reader keeps a few fields while idle and hands out a
// data message's payload as it arrives, which wsmsrp.go parses as MSRP.
// What the reader meets besides data, the peer's control frames, is
// handled here, by the Conn as the reader's ws.Handler.
//
// gorilla/websocket still runs the server handshake (websocket.go) and
// supplies the *websocket.CloseError a peer's Close frame is reported as,
// so that callers matching on it keep working.

// wsLink is the ws.Handler view of a Conn, a distinct type so that its
// methods stay out of Conn's API; a *wsLink in the interface costs no
// allocation.
type wsLink Conn

// BeforeRead releases the layer above's holds and arms the read deadline
// just before the reader waits for input (beforeNetRead).
func (l *wsLink) BeforeRead() { (*Conn)(l).beforeNetRead() }

// Control handles the peer's Ping, Pong and Close frames, at once, also
// between the fragments of a message (RFC 6455 section 5.5).
func (l *wsLink) Control(opcode byte, payload []byte) error {
	c := (*Conn)(l)
	switch opcode {
	case ws.OpPing:
		return c.onPing(payload)
	case ws.OpPong:
		c.keeper.Pong()
		return nil
	}
	return c.onClose(payload)
}

// onPing answers a Ping frame with a Pong carrying its payload through our
// write path (between whole frames), unless the peer floods.
func (c *Conn) onPing(payload []byte) error {
	c.keeper.Received()
	if !c.limiter.Allow(time.Now(), &c.h.cfg.Keepalive) {
		return c.flood("Ping frames")
	}
	err := c.writeControl(ws.OpPong, payload, c.h.cfg.WriteTimeout)
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
	code, text, err := ws.ParseClose(payload)
	if err != nil {
		return err
	}
	echo := code
	if echo == ws.CloseNoStatus {
		echo = ws.CloseNormalClosure
	}
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], uint16(echo))
	_ = c.writeControl(ws.OpClose, b[:], closeWait)
	return &websocket.CloseError{Code: code, Text: text}
}
