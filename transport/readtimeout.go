package transport

import "time"

// Read timeouts (F6 of RELIABILITY.md). Between chunks a connection may
// stay silent as long as keepalive allows; once a chunk has begun, the
// peer must finish its header block within HeaderTimeout of the chunk's
// first byte (on WebSocket, of the message's first frame), and a body
// (or the rest of a message) must not stop for BodyTimeout. Otherwise a
// peer that trickles a byte every few seconds holds its connection and
// buffers forever: keepalive cannot tell, since on WebSocket it may
// answer Pings between one-byte fragments.
//
// The timeouts are read deadlines, set by the reader goroutine just
// before it waits for network input inside a chunk and cleared when it
// waits between chunks, so an idle connection carries no timer.

// readPhase is where the reader stands when it waits for input.
type readPhase uint8

const (
	phaseIdle   readPhase = iota // between chunks
	phaseHeader                  // inside a header block
	phaseBody                    // inside a body, or the rest of a message
)

// beforeNetRead runs just before the reader waits for network input: it
// releases the layer above's holds (SetBeforeRead) and arms the read
// deadline the phase calls for.
func (c *Conn) beforeNetRead() {
	if f := c.beforeRead; f != nil {
		f()
	}
	phase := c.readPhase()
	switch {
	case phase == phaseIdle:
		c.headStart = 0
		if c.deadline != phaseIdle {
			c.deadline = phaseIdle
			_ = c.nc.SetReadDeadline(time.Time{})
		}
	case phase == phaseHeader && c.h.cfg.HeaderTimeout > 0:
		if c.headStart == 0 {
			c.headStart = time.Now().UnixNano()
		}
		c.deadline = phaseHeader
		_ = c.nc.SetReadDeadline(time.Unix(0, c.headStart).Add(c.h.cfg.HeaderTimeout))
	case phase == phaseBody && c.h.cfg.BodyTimeout > 0:
		c.headStart = 0
		c.deadline = phaseBody
		_ = c.nc.SetReadDeadline(time.Now().Add(c.h.cfg.BodyTimeout))
	}
}

// readPhase tells where the reader stands in the peer's input.
func (c *Conn) readPhase() readPhase {
	if c.kind.IsWebSocket() {
		switch {
		case !c.wsr.InMessage():
			return phaseIdle // frame headers: keepalive times them
		case c.ws != nil && c.ws.inHead:
			return phaseHeader
		}
		return phaseBody
	}
	switch header, body := c.rd.InChunk(); {
	case body:
		return phaseBody
	case header:
		return phaseHeader
	}
	return phaseIdle
}

// readTimeoutDetail says which read timeout expired, for the close.
func (c *Conn) readTimeoutDetail() string {
	if c.deadline == phaseHeader {
		return "header block not complete within " + c.h.cfg.HeaderTimeout.String()
	}
	return "no data for " + c.h.cfg.BodyTimeout.String() + " inside a chunk"
}
