package sipua

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/logging"
)

// UA is a SIP user agent: it listens on Config.Listen, places calls
// (Invite), answers them (Config.OnInvite) and registers (Register).
type UA struct {
	cfg  Config
	log  logging.LeveledLogger
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  sipgo.DialogUA
	host string
	port int    // of our Contact
	udp  string // our UDP listening address, "" without UDP
	tr   string // the transport of our Contact

	closers []func() error
	wg      sync.WaitGroup

	mu         sync.Mutex
	dialogs    map[string]*Dialog   // established dialogs by sipgo dialog id
	pendingAck map[string]*Incoming // answered calls awaiting their ACK
	closed     bool
}

// New starts a UA listening on cfg.Listen.
func New(cfg Config) (*UA, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	u := &UA{cfg: cfg, log: cfg.LoggerFactory.NewLogger("sip"),
		dialogs: map[string]*Dialog{}, pendingAck: map[string]*Incoming{}}
	sl := newSlog(cfg.LoggerFactory.NewLogger("sipgo"))
	parser := sip.NewParser()
	trace := func(info sip.TransportReadProps, data []byte) ([]byte, error) {
		u.log.Tracef("SIP in (%s %s <- %s):\n%s", info.Transport, info.LocalAddr, info.RemoteAddr, data)
		if strings.EqualFold(info.Transport, "udp") && len(bytes.Trim(data, "\r\n")) > 0 {
			// sipgo logs a datagram it cannot parse without its sender:
			// parse it here to name the peer, and drop it (an error
			// would stop sipgo's UDP reader).
			if _, err := parser.ParseSIP(data); err != nil {
				u.log.Warnf("SIP datagram from %s dropped: %v", info.RemoteAddr, err)
				return nil, nil
			}
		}
		return data, nil
	}
	u.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgenTLSConfig(cfg.TLSConfig),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sl), sip.WithTransportLayerReadFilter(trace)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sl)),
	)
	if err != nil {
		return nil, fmt.Errorf("sipua: %w", err)
	}
	if u.srv, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(sl)); err != nil {
		_ = u.ua.Close()
		return nil, fmt.Errorf("sipua: %w", err)
	}
	// Handlers go in before the listeners start (sipgo reads its handler
	// map unguarded), and wait until the UA is complete.
	ready := make(chan struct{})
	wait := func(h func(*sip.Request, sip.ServerTransaction)) func(*sip.Request, sip.ServerTransaction) {
		return func(req *sip.Request, tx sip.ServerTransaction) {
			<-ready
			h(req, tx)
		}
	}
	u.srv.OnInvite(wait(u.onInvite))
	u.srv.OnAck(wait(u.onAck))
	u.srv.OnBye(wait(u.onBye))
	u.srv.OnCancel(wait(func(req *sip.Request, tx sip.ServerTransaction) {
		u.respond(tx, req, 481, "Call/Transaction Does Not Exist")
	}))
	u.srv.OnOptions(wait(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		u.send(tx, res)
	}))
	defer close(ready)
	if err := u.listen(); err != nil {
		_ = u.Close()
		return nil, err
	}
	u.awaitUDP()
	if u.cli, err = sipgo.NewClient(u.ua, sipgo.WithClientLogger(sl), sipgo.WithClientHostname(u.host)); err != nil {
		_ = u.Close()
		return nil, fmt.Errorf("sipua: %w", err)
	}
	u.dua = sipgo.DialogUA{Client: u.cli, ContactHDR: u.contact()}
	return u, nil
}

// listen opens and serves the listeners of cfg.Listen.
func (u *UA) listen() error {
	for _, spec := range u.cfg.Listen {
		network, addr, ok := strings.Cut(spec, ":")
		switch {
		case ok && (network == "udp" || network == "tcp" || network == "tls"):
		default:
			network, addr = "udp+tcp", spec
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("%w: listen %q: %v", ErrBadConfig, spec, err)
		}
		var port int
		switch network {
		case "udp":
			port, err = u.listenUDP(addr)
		case "tcp":
			port, err = u.listenTCP(addr, nil)
		case "tls":
			if u.cfg.ServerTLS == nil {
				return fmt.Errorf("%w: listen %q: TLS needs a server certificate", ErrBadConfig, spec)
			}
			port, err = u.listenTCP(addr, u.cfg.ServerTLS)
		default:
			port, err = u.listenBoth(addr)
		}
		if err != nil {
			return fmt.Errorf("sipua: listen %s: %w", spec, err)
		}
		if u.port == 0 {
			u.port, u.tr = port, network
			u.host = u.contactHost(host)
		}
	}
	return nil
}

// listenBoth listens on UDP and TCP on the same port (a free one for 0).
func (u *UA) listenBoth(addr string) (int, error) {
	host, port, _ := net.SplitHostPort(addr)
	var last error
	for try := 0; try < 20; try++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, err
		}
		p := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			_ = udp.Close()
			last = err
			if port != "0" {
				return 0, err
			}
			continue // that port is taken for TCP; pick another
		}
		u.serveUDP(udp)
		u.serveTCP(tcp, nil)
		return p, nil
	}
	return 0, last
}

func (u *UA) listenUDP(addr string) (int, error) {
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		return 0, err
	}
	u.serveUDP(c)
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func (u *UA) listenTCP(addr string, tc *tls.Config) (int, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, err
	}
	u.serveTCP(l, tc)
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (u *UA) serveUDP(c net.PacketConn) {
	if u.udp == "" {
		u.udp = c.LocalAddr().String()
	}
	u.closers = append(u.closers, c.Close)
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		if err := u.srv.ServeUDP(c); err != nil && !errors.Is(err, net.ErrClosed) {
			u.log.Debugf("SIP UDP on %s: %v", c.LocalAddr(), err)
		}
	}()
}

func (u *UA) serveTCP(l net.Listener, tc *tls.Config) {
	u.closers = append(u.closers, l.Close)
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		var err error
		if tc != nil {
			err = u.srv.ServeTLS(tls.NewListener(l, tc))
		} else {
			err = u.srv.ServeTCP(l)
		}
		if err != nil && !errors.Is(err, net.ErrClosed) {
			u.log.Debugf("SIP TCP on %s: %v", l.Addr(), err)
		}
	}()
}

// awaitUDP waits (briefly) until sipgo has taken our UDP socket into its
// pool: a request sent before would make it bind a second socket to the
// same address, and fail.
func (u *UA) awaitUDP() {
	if u.udp == "" {
		return
	}
	for i := 0; i < 200; i++ {
		if c, err := u.ua.TransportLayer().GetConnection("udp", u.udp); err == nil && c != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	u.log.Warnf("SIP UDP socket %s not ready after 1s", u.udp)
}

// contactHost picks the host of our Contact for a listening host.
func (u *UA) contactHost(listenHost string) string {
	if u.cfg.Host != "" {
		return u.cfg.Host
	}
	if ip := net.ParseIP(listenHost); ip != nil && !ip.IsUnspecified() {
		return listenHost
	}
	if u.cfg.ContactFor != "" {
		// A UDP "connection" sends nothing; it only asks for the route.
		if c, err := net.Dial("udp", u.cfg.ContactFor); err == nil {
			defer c.Close()
			return c.LocalAddr().(*net.UDPAddr).IP.String()
		}
	}
	return "127.0.0.1"
}

// contact is our Contact header.
func (u *UA) contact() sip.ContactHeader {
	c := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: u.cfg.User, Host: u.host, Port: u.port}}
	if u.tr == "tcp" || u.tr == "tls" {
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", u.tr)
	}
	return c
}

// Contact returns our Contact URI.
func (u *UA) Contact() string {
	c := u.contact()
	return c.Address.String()
}

// AOR returns our address-of-record, the From of our requests:
// sip:User@Domain (or @ our host).
func (u *UA) AOR() string {
	f := u.from()
	return f.Address.String()
}

// Addr returns the host:port of our Contact.
func (u *UA) Addr() string { return net.JoinHostPort(u.host, strconv.Itoa(u.port)) }

// Close ends every transaction and closes the listeners. Dialogs still
// up are not hung up: call Dialog.Hangup first.
func (u *UA) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	u.mu.Unlock()
	for _, c := range u.closers {
		_ = c()
	}
	err := u.ua.Close()
	u.wg.Wait()
	return err
}

// send writes a response and traces it.
func (u *UA) send(tx sip.ServerTransaction, res *sip.Response) {
	u.traceOut(res)
	if err := tx.Respond(res); err != nil {
		u.log.Debugf("response %d: %v", res.StatusCode, err)
	}
}

func (u *UA) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	u.send(tx, sip.NewResponseFromRequest(req, code, reason, nil))
}

// traceOut logs a message we hand to sipgo.
func (u *UA) traceOut(m sip.Message) {
	u.log.Tracef("SIP out:\n%s", m.String())
}

// prepare sets what every request we originate needs: our UDP socket as
// its source (so answers and in-dialog requests come back to it), the
// User-Agent, and the outbound proxy route.
func (u *UA) prepare(req *sip.Request, viaProxy bool) error {
	if viaProxy && u.cfg.Proxy != "" {
		var p sip.Uri
		if err := sip.ParseUri(u.cfg.Proxy, &p); err != nil {
			return fmt.Errorf("%w: proxy %q: %v", ErrBadConfig, u.cfg.Proxy, err)
		}
		if p.UriParams == nil {
			p.UriParams = sip.NewParams()
		}
		p.UriParams.Add("lr", "")
		req.AppendHeader(sip.NewHeader("Route", "<"+p.String()+">"))
		req.SetDestination(p.HostPort())
		if tr, ok := p.UriParams.Get("transport"); ok {
			req.SetTransport(strings.ToUpper(tr))
		}
	}
	req.AppendHeader(sip.NewHeader("User-Agent", u.cfg.UserAgent))
	if strings.EqualFold(req.Transport(), "udp") && u.udp != "" {
		host, port, _ := sip.ParseAddr(u.udp)
		req.Laddr = sip.Addr{IP: net.ParseIP(host), Port: port, Hostname: host}
	}
	return nil
}

// from is our From header for a new request.
func (u *UA) from() *sip.FromHeader {
	host := u.cfg.Domain
	if host == "" {
		host = u.host
	}
	f := &sip.FromHeader{DisplayName: u.cfg.DisplayName, Address: sip.Uri{Scheme: "sip", User: u.cfg.User, Host: host}, Params: sip.NewParams()}
	f.Params.Add("tag", sip.GenerateTagN(16))
	return f
}

// addDialog remembers an established dialog for in-dialog requests.
func (u *UA) addDialog(id string, d *Dialog) {
	u.mu.Lock()
	u.dialogs[id] = d
	u.mu.Unlock()
}

func (u *UA) dialog(id string) *Dialog {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.dialogs[id]
}

func (u *UA) removeDialog(id string) {
	u.mu.Lock()
	delete(u.dialogs, id)
	u.mu.Unlock()
}

// onAck confirms the server dialog an ACK belongs to.
func (u *UA) onAck(req *sip.Request, _ sip.ServerTransaction) {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		u.log.Debugf("ACK outside any dialog from %s: %v", req.Source(), err)
		return
	}
	u.mu.Lock()
	in := u.pendingAck[id]
	u.mu.Unlock()
	if in == nil {
		u.log.Debugf("ACK for unknown dialog %s from %s", id, req.Source())
		return
	}
	if err := in.ds.ReadAck(req, nil); err != nil {
		u.log.Infof("ACK from %s: %v", req.Source(), err)
	}
}

// onBye ends the dialog a BYE belongs to, ours as callee or as caller.
func (u *UA) onBye(req *sip.Request, tx sip.ServerTransaction) {
	for _, id := range dialogIDs(req) {
		if d := u.dialog(id); d != nil {
			d.remoteBye(req, tx)
			return
		}
	}
	u.log.Infof("BYE from %s for no dialog of ours: 481", req.Source())
	u.respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

// dialogIDs are the ids an in-dialog request may have: as seen by the
// callee (UAS) and by the caller (UAC).
func dialogIDs(req *sip.Request) []string {
	var ids []string
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		ids = append(ids, id)
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		ids = append(ids, id)
	}
	return ids
}

// ctxErr wraps ctx's error as ErrTimeout or ErrCanceled.
func ctxErr(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s", ErrTimeout, what)
	}
	return fmt.Errorf("%w: %s", ErrCanceled, what)
}
