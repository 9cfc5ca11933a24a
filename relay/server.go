package relay

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
	"github.com/pion/logging"
)

// ErrServerClosed is returned by the Serve methods after Shutdown or Close.
var ErrServerClosed = errors.New("relay: server closed")

// Server is an MSRP relay. Create it with New, give it listeners with the
// Serve methods, and stop it with Shutdown or Close.
type Server struct {
	cfg      Config
	host     *transport.Host // every connection's, accepted or dialled
	log      logging.LeveledLogger
	traceOn  bool // the relay logger has trace level on: see traceProbe
	id       *identity
	domains  domainIndex
	sessions *sessionTable
	auth     *authenticator
	authLim  *authLimiter
	stats    counters
	policy   *dialPolicy

	shutting atomic.Bool
	wg       sync.WaitGroup // one per connection being served

	sweepOnce    sync.Once
	sessionSweep *time.Timer // guarded by mu; see startSessionSweep

	mu        sync.Mutex
	peers     map[*peer]struct{}
	listeners map[net.Listener]struct{}
	https     map[*http.Server]struct{}
	outbound  map[string]*peer
	dialing   map[string]*dialCall
	// Connections that may be reused for next hops (reuse.go).
	remotes map[netip.AddrPort]*peer
	relays  map[*peer]struct{}
	aliases map[string]*peer
}

// New checks cfg, fills in its defaults and returns a Server.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	nonces, err := newNonceManager(cfg.NonceSecret, cfg.NonceLifetime, time.Now)
	if err != nil {
		return nil, fmt.Errorf("relay: nonces: %w", err)
	}
	auth, err := newAuthenticator(cfg.Realm, cfg.Credentials, nonces)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	policy, err := newDialPolicy(cfg.Outbound)
	if err != nil {
		return nil, err
	}
	host, err := newHost(&cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		host:      host,
		log:       cfg.LoggerFactory.NewLogger("relay"),
		id:        newIdentity(&cfg),
		domains:   newDomainIndex(&cfg),
		auth:      auth,
		authLim:   newAuthLimiter(cfg.MaxAuthFailuresPerSource, cfg.AuthFailureWindow),
		peers:     map[*peer]struct{}{},
		listeners: map[net.Listener]struct{}{},
		https:     map[*http.Server]struct{}{},
		outbound:  map[string]*peer{},
		dialing:   map[string]*dialCall{},
		policy:    policy,
		remotes:   map[netip.AddrPort]*peer{},
		relays:    map[*peer]struct{}{},
		aliases:   map[string]*peer{},
	}
	s.sessions = newSessionTable(s.expire)
	s.log.Tracef("%v", traceProbe{&s.traceOn})
	return s, nil
}

// BaseURI is the relay's own URI without a session, the To-Path of an
// AUTH sent to it over TCP or TLS.
func (s *Server) BaseURI() string {
	return s.id.scheme + "://" + s.cfg.hostPort() + ";tcp"
}

// ServeTCP serves MSRP over plain TCP on l until l fails or the server
// stops. It always returns a non-nil error (ErrServerClosed after
// Shutdown).
func (s *Server) ServeTCP(l net.Listener) error {
	return s.serveStream(l, s.host.ServeStream)
}

// ServeTLS serves MSRP over TLS on l with Config.Transport.TLSConfig.
func (s *Server) ServeTLS(l net.Listener) error {
	if s.cfg.Transport.TLSConfig == nil {
		return errors.New("relay: ServeTLS needs Config.Transport.TLSConfig")
	}
	return s.serveStream(l, s.host.ServeTLS)
}

func (s *Server) serveStream(l net.Listener, serve func(net.Listener, func(*transport.Conn)) error) error {
	if !s.addListener(l) {
		l.Close()
		return ErrServerClosed
	}
	err := serve(admitListener{l, s}, s.handle)
	if s.shutting.Load() {
		return ErrServerClosed
	}
	return err
}

// WebSocketHandler returns the http.Handler that upgrades requests to MSRP
// over WebSocket, for use with an http.Server of the caller's.
func (s *Server) WebSocketHandler() http.Handler {
	return s.host.WebSocketHandler(s.handle)
}

// ServeWebSocket serves MSRP over WebSocket on l: ws, or wss when secure
// (with Config.Transport.TLSConfig).
func (s *Server) ServeWebSocket(l net.Listener, secure bool) error {
	if !s.addListener(l) {
		l.Close()
		return ErrServerClosed
	}
	// A WebSocket handshake is a small GET: bound its header and the time
	// it may take (TLS handshake included), so half-sent handshakes cannot
	// pile up; a connection idle after a page or a refused handshake goes
	// as soon. Each counts against MaxConnections from accept on.
	hto := s.host.Config().HandshakeTimeout
	hs := &http.Server{Handler: webOr(s.WebSocketHandler(), s.cfg.Web), ReadHeaderTimeout: hto, IdleTimeout: hto, MaxHeaderBytes: 16 << 10,
		ErrorLog: stdlog.New(logWriter{s.log, &s.stats.wssTLSFailures}, "", 0)}
	s.mu.Lock()
	s.https[hs] = struct{}{}
	s.mu.Unlock()
	var err error
	if secure {
		if s.cfg.Transport.TLSConfig == nil {
			return errors.New("relay: wss needs Config.Transport.TLSConfig")
		}
		hs.TLSConfig = s.cfg.Transport.TLSConfig.Clone()
		err = hs.ServeTLS(admitListener{l, s}, "", "")
	} else {
		err = hs.Serve(admitListener{l, s})
	}
	if s.shutting.Load() || errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// webOr sends WebSocket handshakes to ws and every other request to page,
// or answers it 404 when there is no page. A handshake is a request whose
// Upgrade header names websocket; one without the msrp subprotocol still
// reaches ws, which refuses it with 400.
func webOr(ws, page http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, v := range r.Header.Values("Upgrade") {
			for _, tok := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
					ws.ServeHTTP(w, r)
					return
				}
			}
		}
		if page == nil {
			http.NotFound(w, r)
			return
		}
		page.ServeHTTP(w, r)
	})
}

func (s *Server) addListener(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.listeners[l] = struct{}{}
	s.id.addListener(l.Addr())
	return true
}

// handle serves one accepted connection; the transport calls it in the
// connection's own goroutine.
func (s *Server) handle(c *transport.Conn) {
	// Connections from our own listeners were counted when accepted
	// (admit.go); others count from here.
	counted := admittedOf(c.NetConn()) == nil
	if counted && !s.admit(c.RemoteAddr()) {
		c.Close(transport.ReasonPolicy, "too many connections")
		return
	}
	p := newPeer(s, c, false)
	p.counted = counted
	if !s.track(p) {
		if counted {
			s.stats.conns.Add(-1)
		}
		c.Close(transport.ReasonShutdown, "relay shutting down")
		return
	}
	defer s.wg.Done()
	if k := kindIndex(c.Kind()); k >= 0 {
		s.stats.accepted[k].Add(1)
	}
	p.serve()
}

// track registers a connection so Shutdown can find it; it fails once
// shutdown has begun. A successful track adds one to s.wg.
func (s *Server) track(p *peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.peers[p] = struct{}{}
	if !p.outbound {
		s.indexLocked(p)
	}
	s.wg.Add(1)
	return true
}

func (s *Server) forget(p *peer) {
	s.mu.Lock()
	delete(s.peers, p)
	s.unindexLocked(p)
	s.mu.Unlock()
	if p.counted {
		s.stats.conns.Add(-1)
	} else if ac := admittedOf(p.conn.NetConn()); ac != nil {
		ac.release() // the socket may linger a moment; the relay is done with it
	}
	if p.outbound {
		s.stats.outOpen.Add(-1)
	}
}

// Shutdown stops the relay without losing a chunk it accepted: it stops
// accepting connections, refuses new requests (481, REPORTs still pass),
// waits until every chunk being read is finished and every forwarded
// chunk is answered, sends failure REPORTs for what is still unanswered
// when ctx ends, and then closes every connection (WebSocket with close
// code 1001, TCP with a FIN after the last bytes). It is safe to call more
// than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting.Store(true)
	s.stopSessionSweepLocked()
	for l := range s.listeners {
		l.Close()
	}
	for hs := range s.https {
		hs.Close() // hijacked WebSocket connections are ours to close
	}
	s.mu.Unlock()
	s.log.Infof("shutting down: %d connections", len(s.snapshot()))

	err := s.waitQuiet(ctx)
	// Whatever is still unanswered fails now, while its senders are still
	// connected to hear about it.
	for _, p := range s.snapshot() {
		p.failPending("relay shutting down")
	}
	for _, p := range s.snapshot() {
		p.close(transport.ReasonShutdown, "relay shutting down")
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.closeAll()
		<-done
		if err == nil {
			err = ctx.Err()
		}
	}
	s.host.Close()
	return err
}

// quietPoll is how often Shutdown looks whether chunks are still moving.
const quietPoll = 10 * time.Millisecond

// waitQuiet waits until no connection is in the middle of a chunk and no
// forwarded chunk awaits its response, or until ctx ends.
func (s *Server) waitQuiet(ctx context.Context) error {
	for {
		quiet := true
		for _, p := range s.snapshot() {
			if p.busy.Load() || p.pendingCount() > 0 {
				quiet = false
				break
			}
		}
		if quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(quietPoll):
		}
	}
}

func (s *Server) snapshot() []*peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	return peers
}

// Close stops the server at once: listeners and connections are closed
// without waiting for chunks in flight.
func (s *Server) Close() error {
	s.mu.Lock()
	s.shutting.Store(true)
	s.stopSessionSweepLocked()
	for l := range s.listeners {
		l.Close()
	}
	for hs := range s.https {
		hs.Close()
	}
	s.mu.Unlock()
	s.closeAll()
	s.wg.Wait()
	s.host.Close()
	return nil
}

func (s *Server) closeAll() {
	for _, p := range s.snapshot() {
		p.close(transport.ReasonShutdown, "relay shutting down")
	}
}

// trace logs a chunk's start line and headers at trace level, for interop
// debugging. Without trace it costs nothing: even passing the arguments to
// Tracef would allocate for every chunk.
func (s *Server) trace(dir string, p *peer, m *msrp.Message) {
	if s.traceOn {
		s.log.Tracef("%s %s:\n%v", dir, p.addr, headView{m})
	}
}

// traceProbe finds out whether a logger has trace level on, which
// LeveledLogger cannot be asked: loggers format their arguments only for
// levels that are on, and formatting this one sets the flag.
type traceProbe struct{ on *bool }

func (t traceProbe) String() string {
	*t.on = true
	return "relay: tracing every chunk's start line and headers"
}

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
		fmt.Fprintf(&b, "(%d body bytes)", len(m.Body))
	}
	return b.String()
}

// logWriter hands net/http's error lines (bad handshakes, TLS errors) to
// the relay's logger instead of the process's stderr, and counts the
// failed TLS handshakes of wss listeners: net/http runs those handshakes
// and tells of a failure only in this line.
type logWriter struct {
	log      logging.LeveledLogger
	failures *atomic.Uint64
}

func (w logWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if strings.HasPrefix(line, "http: TLS handshake error") {
		w.failures.Add(1)
	}
	w.log.Debugf("http: %s", line)
	return len(p), nil
}
