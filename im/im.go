// Package im reads and writes the instant-message bodies SIP chat clients
// put in MSRP messages: CPIM wrappers (RFC 3862) with IMDN headers (RFC
// 5438), delivery notifications (message/imdn+xml), and is-composing
// indications (RFC 3994, application/im-iscomposing+xml).
package im

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MIME types.
const (
	TypeCPIM        = "message/cpim"
	TypeIMDN        = "message/imdn+xml"
	TypeIsComposing = "application/im-iscomposing+xml"
)

// ErrNotCPIM means a body is not a well-formed CPIM message.
var ErrNotCPIM = errors.New("im: not a CPIM message")

// CPIM is a message/cpim body: the message headers, then the content's
// MIME headers and the content.
type CPIM struct {
	From, To string // "<sip:alice@example.com>" or with a display name
	DateTime time.Time
	// IMDNMessageID and Notify (e.g. "positive-delivery") are the IMDN
	// headers (RFC 5438 section 6).
	IMDNMessageID string
	Notify        string
	// Headers are the other message headers, verbatim ("Name: value").
	Headers []string
	// ContentType and ContentDisposition are the content's MIME headers.
	ContentType, ContentDisposition string
	Content                         []byte
}

// Marshal writes the CPIM body (CRLF line ends).
func (m CPIM) Marshal() []byte {
	var b bytes.Buffer
	if m.From != "" {
		fmt.Fprintf(&b, "From: %s\r\n", m.From)
	}
	if m.To != "" {
		fmt.Fprintf(&b, "To: %s\r\n", m.To)
	}
	dt := m.DateTime
	if dt.IsZero() {
		dt = time.Now()
	}
	fmt.Fprintf(&b, "DateTime: %s\r\n", dt.Format(time.RFC3339))
	if m.IMDNMessageID != "" || m.Notify != "" {
		b.WriteString("NS: imdn <urn:ietf:params:imdn>\r\n")
		if m.IMDNMessageID != "" {
			fmt.Fprintf(&b, "imdn.Message-ID: %s\r\n", m.IMDNMessageID)
		}
		if m.Notify != "" {
			fmt.Fprintf(&b, "imdn.Disposition-Notification: %s\r\n", m.Notify)
		}
	}
	for _, h := range m.Headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	ct := m.ContentType
	if ct == "" {
		ct = "text/plain;charset=utf-8"
	}
	fmt.Fprintf(&b, "Content-Type: %s\r\n", ct)
	if m.ContentDisposition != "" {
		fmt.Fprintf(&b, "Content-Disposition: %s\r\n", m.ContentDisposition)
	}
	b.WriteString("\r\n")
	b.Write(m.Content)
	return b.Bytes()
}

// ParseCPIM reads a message/cpim body. Header names compare
// case-insensitively; IMDN headers are recognised by the "imdn." prefix
// (the namespace prefix Blink and RFC 5438 use).
func ParseCPIM(body []byte) (CPIM, error) {
	var m CPIM
	text := body
	msgHdrs, rest, ok := cutBlank(text)
	if !ok {
		return m, fmt.Errorf("%w: no blank line after the message headers", ErrNotCPIM)
	}
	mimeHdrs, content, ok := cutBlank(rest)
	if !ok {
		return m, fmt.Errorf("%w: no blank line after the content headers", ErrNotCPIM)
	}
	for _, line := range lines(msgHdrs) {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			return m, fmt.Errorf("%w: header line %q", ErrNotCPIM, line)
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "from":
			m.From = val
		case "to":
			m.To = val
		case "datetime":
			m.DateTime, _ = time.Parse(time.RFC3339, val)
		case "imdn.message-id":
			m.IMDNMessageID = val
		case "imdn.disposition-notification":
			m.Notify = val
		default:
			m.Headers = append(m.Headers, line)
		}
	}
	for _, line := range lines(mimeHdrs) {
		name, val, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-type":
			m.ContentType = strings.TrimSpace(val)
		case "content-disposition":
			m.ContentDisposition = strings.TrimSpace(val)
		}
	}
	m.Content = content
	return m, nil
}

// WantsDelivery reports whether the sender asked for a positive delivery
// notification.
func (m CPIM) WantsDelivery() bool {
	return m.IMDNMessageID != "" && strings.Contains(strings.ToLower(m.Notify), "positive-delivery")
}

// Sender returns the From's display name, else its URI, for display.
func (m CPIM) Sender() string {
	s := strings.TrimSpace(m.From)
	if i := strings.IndexByte(s, '<'); i > 0 {
		if name := strings.Trim(strings.TrimSpace(s[:i]), `"`); name != "" {
			return name
		}
	}
	return strings.Trim(s, "<>")
}

// cutBlank splits at the first empty line (CRLF or LF).
func cutBlank(b []byte) (head, rest []byte, ok bool) {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		j := bytes.Index(b, []byte("\n\n"))
		if j < 0 || i < j {
			return b[:i], b[i+4:], true
		}
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i], b[i+2:], true
	}
	if bytes.HasPrefix(b, []byte("\r\n")) {
		return nil, b[2:], true
	}
	return nil, nil, false
}

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Delivered makes the positive delivery notification (RFC 5438 section
// 7.2.1) for the message m, as a CPIM body from us (to m's sender).
func Delivered(m CPIM, from string, now time.Time) []byte {
	xml := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\r\n"+
		`<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>%s</message-id><datetime>%s</datetime>`+
		`<delivery-notification><status><delivered/></status></delivery-notification></imdn>`,
		escapeXML(m.IMDNMessageID), m.DateTime.Format(time.RFC3339))
	return CPIM{
		From:               from,
		To:                 m.From,
		DateTime:           now,
		IMDNMessageID:      fmt.Sprintf("%x", now.UnixNano()),
		ContentType:        TypeIMDN,
		ContentDisposition: "notification",
		Content:            []byte(xml),
	}.Marshal()
}

// IMDNStatus reads the status of a delivery or display notification body:
// its message-id and "delivered", "displayed", "failed", ...
func IMDNStatus(xml []byte) (messageID, status string) {
	s := string(xml)
	messageID = between(s, "<message-id>", "</message-id>")
	st := between(s, "<status>", "</status>")
	st = strings.TrimSpace(strings.Trim(strings.TrimSpace(st), "<>/"))
	return messageID, st
}

// IsComposing makes an is-composing indication (RFC 3994).
func IsComposing(active bool) []byte {
	state := "idle"
	if active {
		state = "active"
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\r\n" +
		`<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>` + state +
		`</state><contenttype>text/plain</contenttype><refresh>60</refresh></isComposing>`)
}

// ComposingState reads the state of an is-composing indication.
func ComposingState(xml []byte) string {
	return strings.TrimSpace(between(string(xml), "<state>", "</state>"))
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return ""
}

func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
