package endpoint

import (
	"fmt"
	"os"
	"slices"

	"github.com/msrpd/msrpd/msrp"
)

// assembly collects the chunks of one incoming message by Byte-Range, in
// any order; where chunks overlap the last one written wins (RFC 4975
// section 7.3.1). The body lives in memory, or in a spool file for large
// messages when Config.SpoolDir is set.
type assembly struct {
	id            string
	contentType   string
	fromPath      string
	toPath        string
	headers       []msrp.Header
	successReport bool
	total         int64 // from Byte-Range, or msrp.Unknown
	lastEnd       int64 // end of the '$' chunk once seen, else -1
	max           int64

	buf  []byte
	file *os.File
	have []span // received byte ranges, sorted and merged
}

// span is a half-open range [from, to) of message offsets.
type span struct{ from, to int64 }

func newAssembly(e *Endpoint, m *msrp.Message, id string, total int64) (*assembly, error) {
	a := &assembly{
		id:            id,
		contentType:   m.ContentType(),
		fromPath:      m.Header(msrp.HeaderFromPath),
		toPath:        m.Header(msrp.HeaderToPath),
		headers:       m.Headers,
		successReport: m.SuccessReport() == "yes",
		total:         total,
		lastEnd:       -1,
		max:           e.cfg.MaxMessage,
	}
	switch {
	case e.cfg.SpoolDir != "" && (total == msrp.Unknown || total > e.cfg.SpoolThreshold):
		f, err := os.CreateTemp(e.cfg.SpoolDir, "msrp-*.part")
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		a.file = f
	case total > 0 && e.cfg.NewBody != nil:
		a.buf = e.cfg.NewBody(total)
		if int64(len(a.buf)) < total {
			return nil, fmt.Errorf("NewBody gave %d bytes for a %d-byte message", len(a.buf), total)
		}
	case total > 0:
		a.buf = make([]byte, total)
	}
	return a, nil
}

// write stores body at message offset off.
func (a *assembly) write(off int64, body []byte) error {
	end := off + int64(len(body))
	if end > a.max || (a.total >= 0 && end > a.total) {
		return fmt.Errorf("chunk ends at byte %d, beyond the message size (%d) or limit (%d)", end, a.total, a.max)
	}
	if a.file != nil {
		if _, err := a.file.WriteAt(body, off); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
	} else {
		if end > int64(len(a.buf)) {
			a.buf = slices.Grow(a.buf, int(end)-len(a.buf))[:end]
		}
		copy(a.buf[off:], body)
	}
	a.add(span{off, end})
	return nil
}

// add merges s into the sorted list of received ranges.
func (a *assembly) add(s span) {
	i := 0
	for i < len(a.have) && a.have[i].to < s.from {
		i++
	}
	j := i
	for j < len(a.have) && a.have[j].from <= s.to {
		s.from = min(s.from, a.have[j].from)
		s.to = max(s.to, a.have[j].to)
		j++
	}
	a.have = slices.Replace(a.have, i, j, s)
}

// size is the message's size as far as known.
func (a *assembly) size() int64 {
	if a.total >= 0 {
		return a.total
	}
	return a.lastEnd
}

// complete reports whether every byte has arrived: the size is known
// (Byte-Range total, or the end of the '$' chunk) and one received range
// covers it.
func (a *assembly) complete() bool {
	n := a.size()
	if n < 0 {
		return false
	}
	return n == 0 || (len(a.have) == 1 && a.have[0].from == 0 && a.have[0].to >= n)
}

// message returns the complete message; a spooled body stays in its
// spool file, whose name goes to Message.File.
func (a *assembly) message() (*Message, error) {
	m := &Message{ID: a.id, ContentType: a.contentType, FromPath: a.fromPath,
		ToPath: a.toPath, Headers: a.headers, Size: a.size()}
	if a.file == nil {
		m.Body = a.buf[:m.Size:m.Size]
		if m.Body == nil {
			m.Body = []byte{}
		}
		return m, nil
	}
	name := a.file.Name()
	if err := a.file.Truncate(m.Size); err != nil {
		a.discard()
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := a.file.Close(); err != nil {
		_ = os.Remove(name)
		return nil, fmt.Errorf("spool: %w", err)
	}
	a.file = nil
	m.File = name
	return m, nil
}

// discard drops the partial body.
func (a *assembly) discard() {
	if a.file != nil {
		name := a.file.Name()
		_ = a.file.Close()
		_ = os.Remove(name)
		a.file = nil
	}
	a.buf = nil
}
