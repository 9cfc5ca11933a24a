package main

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/im"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/sdp"
)

// callSession is the MSRP side of one SIP call: the endpoint, what the
// peer's SDP said, and how to show what arrives.
type callSession struct {
	e       *endpoint.Endpoint
	local   string // our SIP URI, the CPIM From
	remote  string // the peer's SIP URI, the CPIM To
	peer    sdp.MSRPMedia
	cpim    bool
	p       *printer
	verbose bool
	dir     string            // --out
	file    *sdp.FileSelector // the file the peer offered us, if any
}

// openSession makes the MSRP session of a call: through --relay (AUTH
// first), or on the Listener ln. maxMessage raises the incoming size
// limit (endpoint.DefaultMaxMessage) for an offered file; sessionMax
// gives the resulting limit, for a=max-size.
func openSession(ctx context.Context, c *cli.Context, ln *endpoint.Listener, maxMessage int64) (*endpoint.Endpoint, error) {
	cfg, err := endpointConfig(c, "user")
	if err != nil {
		return nil, err
	}
	cfg.ReconnectAttempts = 0 // the SDP named this session; a new one would need a re-INVITE
	cfg.ChunkSize = c.Int("chunk")
	cfg.ChunkTimeout = c.Duration("timeout")
	cfg.Listener = ln
	cfg.MaxMessage = sessionMax(maxMessage)
	cfg.SpoolDir = c.String("out")
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	// No OnEvent: the session's end shows as the end of the call.
	return dial(ctx, c, cfg)
}

// sessionMax is the incoming size limit openSession sets.
func sessionMax(maxMessage int64) int64 { return max(endpoint.DefaultMaxMessage, maxMessage) }

// localMedia describes our side of the session for the SDP; maxSize is
// our incoming limit (a=max-size).
func localMedia(c *cli.Context, e *endpoint.Endpoint, proto, addr string, maxSize int64) sdp.MSRPMedia {
	own, _ := msrp.ParseURI(e.URI())
	port := own.Port
	if e.Transport() == "ws" || port == 0 {
		port = 9 // no port of ours means anything to the peer
	}
	if proto == "" {
		proto = sdp.ProtoTCP
		if own.Scheme == "msrps" || e.Transport() == "ws" {
			proto = sdp.ProtoTLS
		}
	}
	return sdp.MSRPMedia{
		Port:               port,
		Proto:              proto,
		Addr:               addr,
		Path:               e.Path(),
		AcceptTypes:        strings.Fields(c.String("accept-types")),
		AcceptWrappedTypes: []string{"text/plain", "*"},
		Connection:         "new",
		MaxSize:            maxSize,
	}
}

// hostOf returns the host of a host:port.
func hostOf(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

// setupPreference maps --msrp-setup to the role we prefer when the offer
// lets us choose. auto: without a relay, passive toward a peer behind a
// relay (its relay then connects to us, which every relay can), else
// active, as Blink is.
func setupPreference(c *cli.Context, haveRelay bool, peer sdp.MSRPMedia) string {
	switch strings.ToLower(c.String("msrp-setup")) {
	case "active":
		return sdp.SetupActive
	case "passive":
		return sdp.SetupPassive
	}
	if p, err := peer.PeerPath(); err == nil && !haveRelay && len(p) > 1 {
		return sdp.SetupPassive
	}
	return sdp.SetupActive
}

// useCPIM decides on CPIM wrapping from --cpim and the peer's
// accept-types.
func useCPIM(flag string, peer sdp.MSRPMedia) bool {
	switch strings.ToLower(flag) {
	case "on", "yes", "true":
		return true
	case "off", "no", "false":
		return false
	}
	at := peer.AcceptTypes
	return len(at) > 0 && strings.EqualFold(at[0], im.TypeCPIM) ||
		!sdp.Accepts(at, "text/plain") && sdp.Accepts(at, im.TypeCPIM)
}

// sendText sends a chat line, wrapped in CPIM when the peer wants it.
func (s *callSession) sendText(ctx context.Context, text string, opts endpoint.SendOptions, done func(error)) {
	ct, body := "text/plain", []byte(text)
	if s.cpim {
		ct = im.TypeCPIM
		body = im.CPIM{From: "<" + s.local + ">", To: "<" + s.remote + ">", Content: body}.Marshal()
	}
	s.e.SendAsync(ctx, s.e.Peer(), ct, body, opts, done)
}

// handle shows a received message and answers what asks for an answer.
// It reports whether the message counts (a chat line or a file, not an
// indication or a notification).
func (s *callSession) handle(ctx context.Context, m *endpoint.Message) bool {
	ct := strings.ToLower(m.ContentType)
	switch {
	case s.file != nil && m.File != "" || s.file != nil && !strings.HasPrefix(ct, im.TypeCPIM):
		s.saveFile(m)
		return true
	case strings.HasPrefix(ct, im.TypeIsComposing):
		s.note("is-composing: %s", im.ComposingState(m.Body))
		return false
	case strings.HasPrefix(ct, im.TypeIMDN):
		id, st := im.IMDNStatus(m.Body)
		s.note("notification for message %s: %s", id, st)
		return false
	case strings.HasPrefix(ct, im.TypeCPIM) && m.File == "":
		return s.handleCPIM(ctx, m)
	}
	if err := s.p.print(m, ""); err != nil {
		fmt.Fprintf(os.Stderr, "msrpcat: %v\n", err)
	}
	return true
}

// handleCPIM unwraps a CPIM message: chat shown with its sender,
// indications and notifications noted, delivery notifications sent.
func (s *callSession) handleCPIM(ctx context.Context, m *endpoint.Message) bool {
	cp, err := im.ParseCPIM(m.Body)
	if err != nil {
		fmt.Fprintf(os.Stderr, "msrpcat: message %s from %s: %v\n", m.ID, s.remote, err)
		return true
	}
	inner := strings.ToLower(cp.ContentType)
	switch {
	case strings.HasPrefix(inner, im.TypeIsComposing):
		s.note("is-composing from %s: %s", cp.Sender(), im.ComposingState(cp.Content))
		return false
	case strings.HasPrefix(inner, im.TypeIMDN):
		id, st := im.IMDNStatus(cp.Content)
		s.note("notification from %s for message %s: %s", cp.Sender(), id, st)
		return false
	}
	if cp.WantsDelivery() {
		body := im.Delivered(cp, "<"+s.local+">", time.Now())
		s.e.SendAsync(ctx, s.e.Peer(), im.TypeCPIM, body, endpoint.SendOptions{}, func(err error) {
			if err != nil {
				fmt.Fprintf(os.Stderr, "msrpcat: delivery notification for %s: %v\n", cp.IMDNMessageID, err)
			}
		})
	}
	if inner == "" || strings.HasPrefix(inner, "text/") {
		s.p.line(cp.Sender() + ": " + strings.TrimRight(string(cp.Content), "\r\n"))
		return true
	}
	inside := &endpoint.Message{ID: m.ID, ContentType: cp.ContentType, Body: cp.Content, Size: int64(len(cp.Content))}
	if err := s.p.print(inside, cp.Sender()+": "); err != nil {
		fmt.Fprintf(os.Stderr, "msrpcat: %v\n", err)
	}
	return true
}

// note shows an indication or notification with --verbose.
func (s *callSession) note(format string, args ...any) {
	if s.verbose {
		fmt.Fprintf(os.Stderr, "msrpcat: "+format+"\n", args...)
	}
}

// saveFile checks a received file against the file-selector of the
// offer (size and hash, RFC 5547 section 5) and keeps it under --out.
func (s *callSession) saveFile(m *endpoint.Message) {
	fs := s.file
	name := filepath.Base(strings.ReplaceAll(fs.Name, "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = m.ID
	}
	sum, size, err := hashMessage(m)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "msrpcat: file %s: %v\n", name, err)
		return
	case fs.Size >= 0 && size != fs.Size:
		fmt.Fprintf(os.Stderr, "msrpcat: file %s: %d bytes, the offer said %d\n", name, size, fs.Size)
	case fs.HashAlg == "sha-1" && string(sum) != string(fs.Hash):
		fmt.Fprintf(os.Stderr, "msrpcat: file %s: sha-1 %x, the offer said %x\n", name, sum, fs.Hash)
	}
	check := "size ok"
	if fs.HashAlg == "sha-1" {
		check = "sha-1 ok"
	}
	if (fs.Size >= 0 && size != fs.Size) || (fs.HashAlg == "sha-1" && string(sum) != string(fs.Hash)) {
		check = "MISMATCH"
	}
	if s.dir == "" {
		if m.File != "" {
			_ = os.Remove(m.File)
		}
		s.p.line(fmt.Sprintf("[file %s, %d bytes, %s; not kept (no --out)]", name, size, check))
		return
	}
	dest := filepath.Join(s.dir, name)
	var werr error
	if m.File != "" {
		werr = os.Rename(m.File, dest)
	} else {
		werr = os.WriteFile(dest, m.Body, 0o644)
	}
	if werr != nil {
		fmt.Fprintf(os.Stderr, "msrpcat: file %s: %v\n", name, werr)
		return
	}
	s.p.line(fmt.Sprintf("[file %s, %d bytes, %s, saved as %s]", name, size, check, dest))
}

// hashMessage computes the sha-1 and size of a message's body, reading a
// spooled one from its file (bounded memory).
func hashMessage(m *endpoint.Message) ([]byte, int64, error) {
	h := sha1.New()
	if m.File == "" {
		h.Write(m.Body)
		return h.Sum(nil), int64(len(m.Body)), nil
	}
	f, err := os.Open(m.File)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	n, err := io.Copy(h, f)
	return h.Sum(nil), n, err
}

// hashFile computes the file-selector of a file to send.
func hashFile(name, contentType string) (sdp.FileSelector, error) {
	f, err := os.Open(name)
	if err != nil {
		return sdp.FileSelector{}, err
	}
	defer f.Close()
	h := sha1.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return sdp.FileSelector{}, err
	}
	return sdp.FileSelector{Name: filepath.Base(name), Type: contentType, Size: n, HashAlg: "sha-1", Hash: h.Sum(nil)}, nil
}
