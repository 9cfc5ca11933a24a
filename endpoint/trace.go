package endpoint

import (
	"fmt"
	"strings"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// trace logs a chunk's start line and headers at trace level ("in" or
// "out"), for interop debugging. Without trace it costs nothing: even
// passing the arguments to Tracef would allocate for every chunk.
func (e *Endpoint) trace(dir string, c *transport.Conn, m *msrp.Message) {
	if e.traceOn {
		e.log.Tracef("MSRP %s %s:\n%v", dir, c.RemoteAddr(), headView{m})
	}
}

// send traces and sends one chunk on c.
func (e *Endpoint) send(c *transport.Conn, m *msrp.Message) error {
	e.trace("out", c, m)
	return c.Send(m)
}

// traceProbe finds out whether a logger has trace level on, which
// LeveledLogger cannot be asked: loggers format their arguments only for
// levels that are on, and formatting this one sets the flag.
type traceProbe struct{ on *bool }

func (t traceProbe) String() string {
	*t.on = true
	return "endpoint: tracing every chunk's start line and headers"
}

// headView prints a chunk's start line and headers, Authorization
// redacted, and its body size.
type headView struct{ m *msrp.Message }

func (h headView) String() string {
	var b strings.Builder
	m := h.m
	if m.IsRequest() {
		fmt.Fprintf(&b, "MSRP %s %s\n", m.TransactionID, m.Method)
	} else {
		fmt.Fprintf(&b, "MSRP %s %03d %s\n", m.TransactionID, m.StatusCode, m.Comment)
	}
	for _, hd := range m.Headers {
		if strings.EqualFold(hd.Name, msrp.HeaderAuthorization) {
			hd.Value = "<redacted>"
		}
		fmt.Fprintf(&b, "%s: %s\n", hd.Name, hd.Value)
	}
	if m.Body == nil {
		b.WriteString("(bodiless)")
	} else {
		fmt.Fprintf(&b, "(%d body bytes in this piece)", len(m.Body))
	}
	return b.String()
}
