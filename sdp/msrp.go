package sdp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/msrpd/msrpd/msrp"
)

// MSRP protocols of the m=message line (RFC 4975 section 8.1).
const (
	ProtoTCP = "TCP/MSRP"
	ProtoTLS = "TCP/TLS/MSRP"
)

// Setup roles (RFC 6135, after RFC 4145).
const (
	SetupActive  = "active"
	SetupPassive = "passive"
	SetupActPass = "actpass"
)

// MSRPMedia is what an m=message section says about an MSRP session.
type MSRPMedia struct {
	// Port is the m= port; it should be the port of Path's first URI
	// (9 where none is meaningful).
	Port int
	// Proto is ProtoTCP or ProtoTLS.
	Proto string
	// Addr is the c= address (media-level, else session-level), e.g.
	// "192.0.2.1"; informational for MSRP.
	Addr string
	// Path is the a=path value: relay URIs first, the endpoint's last.
	Path string
	// AcceptTypes and AcceptWrappedTypes are the MIME types (or "*").
	AcceptTypes, AcceptWrappedTypes []string
	// Setup is the a=setup value, "" when absent.
	Setup string
	// Connection is the a=connection value ("new"), "" when absent.
	Connection string
	// MaxSize is a=max-size, 0 when absent.
	MaxSize int64
	// Direction is sendrecv, sendonly, recvonly or inactive ("" when
	// absent, which means sendrecv).
	Direction string
	// File describes the file of a file transfer (RFC 5547), or nil.
	File *FileSelector
	// FileTransferID is a=file-transfer-id, "" when absent.
	FileTransferID string
	// FileDisposition is a=file-disposition, "" when absent.
	FileDisposition string
}

// PeerPath returns the parsed path.
func (m MSRPMedia) PeerPath() (msrp.Path, error) { return msrp.ParsePath(m.Path) }

// MSRP finds the first acceptable m=message section (an MSRP protocol, a
// non-zero port, a valid path, accept-types) and returns its index and
// what it says. ErrNoMSRP when there is none: the answer to such an
// offer is 488.
func (s *Session) MSRP() (int, MSRPMedia, error) {
	var why []string
	for i, m := range s.Media {
		if !strings.EqualFold(m.Type, "message") {
			continue
		}
		mm, err := s.msrpMedia(m)
		if err != nil {
			why = append(why, fmt.Sprintf("m=message #%d: %v", i+1, err))
			continue
		}
		return i, mm, nil
	}
	if len(why) == 0 {
		return -1, MSRPMedia{}, fmt.Errorf("%w: no m=message line", ErrNoMSRP)
	}
	return -1, MSRPMedia{}, fmt.Errorf("%w: %s", ErrNoMSRP, strings.Join(why, "; "))
}

func (s *Session) msrpMedia(m *Media) (MSRPMedia, error) {
	mm := MSRPMedia{Port: m.Port, Proto: m.Proto}
	switch {
	case !strings.EqualFold(m.Proto, ProtoTCP) && !strings.EqualFold(m.Proto, ProtoTLS):
		return mm, fmt.Errorf("protocol %q is not TCP/MSRP or TCP/TLS/MSRP", m.Proto)
	case m.Port == 0:
		return mm, fmt.Errorf("port 0 (stream rejected)")
	}
	mm.Addr = connAddr(m.Conn)
	if mm.Addr == "" {
		mm.Addr = connAddr(s.Conn)
	}
	path, ok := m.Attr("path")
	if !ok {
		return mm, fmt.Errorf("no a=path")
	}
	p, err := msrp.ParsePath(path)
	if err != nil {
		return mm, fmt.Errorf("a=path: %v", err)
	}
	mm.Path = p.String()
	at, ok := m.Attr("accept-types")
	if !ok || strings.TrimSpace(at) == "" {
		return mm, fmt.Errorf("no a=accept-types")
	}
	mm.AcceptTypes = strings.Fields(at)
	if v, ok := m.Attr("accept-wrapped-types"); ok {
		mm.AcceptWrappedTypes = strings.Fields(v)
	}
	if v, ok := m.Attr("setup"); ok {
		mm.Setup = strings.ToLower(strings.TrimSpace(v))
		switch mm.Setup {
		case SetupActive, SetupPassive, SetupActPass, "holdconn":
		default:
			return mm, fmt.Errorf("a=setup:%s is not active, passive, actpass or holdconn", clip(v))
		}
	}
	if v, ok := m.Attr("connection"); ok {
		mm.Connection = strings.ToLower(strings.TrimSpace(v))
	}
	if v, ok := m.Attr("max-size"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return mm, fmt.Errorf("a=max-size:%s is not a size", clip(v))
		}
		mm.MaxSize = n
	}
	for _, d := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if _, ok := m.Attr(d); ok {
			mm.Direction = d
		}
	}
	if v, ok := m.Attr("file-selector"); ok {
		fs, err := ParseFileSelector(v)
		if err != nil {
			return mm, err
		}
		mm.File = &fs
	}
	mm.FileTransferID, _ = m.Attr("file-transfer-id")
	mm.FileDisposition, _ = m.Attr("file-disposition")
	return mm, nil
}

// connAddr takes the address of a c= value ("IN IP4 192.0.2.1").
func connAddr(c string) string {
	f := strings.Fields(c)
	if len(f) != 3 {
		return ""
	}
	addr, _, _ := strings.Cut(f[2], "/") // multicast TTL
	return addr
}

// Media returns the m=message section for m, with a=path, accept-types,
// accept-wrapped-types, setup, connection:new, max-size, the direction
// and the file attributes.
func (m MSRPMedia) Media() *Media {
	md := &Media{Type: "message", Port: m.Port, Proto: m.Proto, Formats: []string{"*"}}
	if m.Addr != "" {
		md.Conn = connLine(m.Addr)
	}
	add := func(name, value string) { md.Attrs = append(md.Attrs, Attr{Name: name, Value: value}) }
	add("path", m.Path)
	add("accept-types", strings.Join(m.AcceptTypes, " "))
	if len(m.AcceptWrappedTypes) > 0 {
		add("accept-wrapped-types", strings.Join(m.AcceptWrappedTypes, " "))
	}
	if m.Setup != "" {
		add("setup", m.Setup)
	}
	if m.Connection != "" {
		add("connection", m.Connection)
	}
	if m.MaxSize > 0 {
		add("max-size", strconv.FormatInt(m.MaxSize, 10))
	}
	if m.Direction != "" {
		add(m.Direction, "")
	}
	if m.File != nil {
		add("file-selector", m.File.String())
	}
	if m.FileTransferID != "" {
		add("file-transfer-id", m.FileTransferID)
	}
	if m.FileDisposition != "" {
		add("file-disposition", m.FileDisposition)
	}
	return md
}

// connLine makes a c= value for an address.
func connLine(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
		return "IN IP6 " + addr
	}
	return "IN IP4 " + addr
}

// NewSession makes a description around media sections, with origin
// address addr and session id id.
func NewSession(addr string, id int64, media ...*Media) *Session {
	c := connLine(addr)
	return &Session{
		Origin: fmt.Sprintf("- %d %d %s", id, id, c),
		Name:   "-",
		Conn:   c,
		Media:  media,
	}
}

// Answer builds the answer to offer: mine answers the MSRP section at
// index idx (from MSRP); every other section is rejected with port 0, as
// RFC 3264 section 6 requires.
func Answer(offer *Session, idx int, mine MSRPMedia, addr string, id int64) *Session {
	a := NewSession(addr, id)
	for i, m := range offer.Media {
		if i == idx {
			a.Media = append(a.Media, mine.Media())
			continue
		}
		a.Media = append(a.Media, &Media{Type: m.Type, Port: 0, Proto: m.Proto, Formats: m.Formats})
	}
	return a
}

// AnswerSetup picks the answerer's a=setup for an offer's (RFC 6135):
// the opposite of active or passive; for actpass the preference
// (active, or passive when prefer is SetupPassive). An offer without
// a=setup follows RFC 4975: the answerer connects (active).
func AnswerSetup(offer, prefer string) (string, error) {
	switch offer {
	case SetupActive:
		return SetupPassive, nil
	case SetupPassive, "":
		return SetupActive, nil
	case SetupActPass:
		if prefer == SetupPassive {
			return SetupPassive, nil
		}
		return SetupActive, nil
	}
	return "", fmt.Errorf("%w: a=setup:%s cannot be answered", ErrNoMSRP, offer)
}

// OffererActive tells whether the offerer opens the connection, given
// the answer's a=setup (absent: the answerer is active, RFC 4975).
func OffererActive(answer string) (bool, error) {
	switch answer {
	case SetupPassive:
		return true, nil
	case SetupActive, "":
		return false, nil
	}
	return false, fmt.Errorf("%w: answer a=setup:%s is not active or passive", ErrNoMSRP, answer)
}

// Accepts reports whether a MIME type is in an accept-types list
// (exactly, by "type/*", or by "*").
func Accepts(list []string, mimeType string) bool {
	t := strings.ToLower(strings.TrimSpace(mimeType))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	major, _, _ := strings.Cut(t, "/")
	for _, a := range list {
		a = strings.ToLower(a)
		if a == "*" || a == t || a == major+"/*" {
			return true
		}
	}
	return false
}
