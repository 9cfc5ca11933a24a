package endpoint

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/srv"
	"github.com/msrpd/msrpd/transport"
)

// Endpoint is an MSRP endpoint with one session: through a relay, one
// connection to the relay and the Use-Path it gave; without one, one
// connection to the peer (see Config.Listener and Connect). Create it
// with Dial; see the package documentation for its concurrency rules.
type Endpoint struct {
	cfg      Config
	log      logging.LeveledLogger
	specs    []relaySpec // with a relay: Config.Relay and Config.Relays
	resolver srv.Resolver
	ln       *Listener       // without one
	tr       *transport.Host // dials every connection, across reconnects
	ownTr    bool            // tr is the Endpoint's own, closed with it

	window  chan struct{} // one token per outstanding SEND chunk
	inbox   chan *Message // when Config.OnMessage is nil
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the Endpoint stops for good
	bound   chan struct{} // closed when the first request from the peer came
	wg      sync.WaitGroup

	finishOnce sync.Once
	boundOnce  sync.Once
	traceOn    bool // the logger has trace level (traceProbe)

	mu      sync.Mutex
	conn    *transport.Conn // nil while reconnecting or after the end
	sess    session         // of conn
	txns    map[string]*txn
	outs    map[string]*outMsg // by Message-ID
	failed  recentIDs          // messages that ended in failure lately
	refresh *time.Timer
	closed  bool
	running bool  // a read loop goroutine owns done (run)
	err     error // why the Endpoint stopped

	peerPath string                       // the peer's SDP path, once Connect was called
	peer     msrp.URI                     // its last URI
	accepted msrp.URI                     // without a relay: the last From-Path URI of the peer that connected
	extra    map[*transport.Conn]struct{} // further connections from the peer's relay
}

// session is what one connection's AUTH gave.
type session struct {
	target  relayTarget // the relay it is on
	uri     string      // our own URI (From-Path)
	usePath string
	expires time.Duration
}

func (s session) path() string { return joinPaths(s.usePath, s.uri) }

// joinPaths joins space-separated URI lists, skipping empty ones.
func joinPaths(paths ...string) string {
	var f []string
	for _, p := range paths {
		f = append(f, strings.Fields(p)...)
	}
	return strings.Join(f, " ")
}

// Dial connects to the relay, authenticates and returns an Endpoint whose
// session is ready: Path() is what a peer needs. Without a relay
// (Config.Relay empty, Config.Listener set) it dials nothing: the session
// gets a URI on the Listener's address, and Connect makes or awaits the
// connection once the peer's path is known.
func Dial(ctx context.Context, cfg Config) (*Endpoint, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Endpoint{
		cfg:      cfg,
		log:      cfg.LoggerFactory.NewLogger("endpoint"),
		resolver: cfg.Resolver,
		window:   make(chan struct{}, cfg.Window),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		bound:    make(chan struct{}),
		txns:     map[string]*txn{},
		outs:     map[string]*outMsg{},
	}
	if e.resolver == nil {
		e.resolver = srv.System()
	}
	if e.tr = cfg.Transport; e.tr == nil {
		if e.tr, err = NewTransport(cfg); err != nil {
			return nil, err
		}
		e.ownTr = true
	}
	if cfg.OnMessage == nil {
		e.inbox = make(chan *Message, DefaultInboxSize)
	}
	e.log.Tracef("%v", traceProbe{&e.traceOn})
	if cfg.TLS.Insecure {
		e.log.Warn("TLS.Insecure: TLS certificates are not verified; anyone on the path can read and change the session")
	}
	if cfg.Relay == "" {
		return e.openDirect()
	}
	if e.specs, err = parseRelays(cfg); err != nil {
		return nil, err
	}
	c, s, err := e.connect(ctx, "")
	if err != nil {
		return nil, err
	}
	e.install(c, s)
	e.running = true
	e.emit(Event{Kind: EventConnected, UsePath: s.usePath, Path: s.path()})
	e.wg.Add(2)
	go e.run(c, nil)
	go e.sweep()
	return e, nil
}

// Path returns the session's path: the Use-Path URIs, then our own URI.
// It is the To-Path suffix a peer on the same relay appends, and the SDP
// a=path value (with one relay, reversed Use-Path + own URI is the same).
func (e *Endpoint) Path() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sess.path()
}

// UsePath returns the relay's Use-Path of the current session.
func (e *Endpoint) UsePath() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sess.usePath
}

// URI returns our own URI, the From-Path of our requests.
func (e *Endpoint) URI() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sess.uri
}

// PathTo returns the To-Path for sending to a peer whose session path
// (its Path()) is peerPath: our Use-Path, then the peer's path.
func (e *Endpoint) PathTo(peerPath string) string {
	return joinPaths(e.UsePath(), peerPath)
}

// Peer returns the To-Path toward the peer given to Connect ("" before).
func (e *Endpoint) Peer() string {
	e.mu.Lock()
	p := e.peerPath
	e.mu.Unlock()
	if p == "" {
		return ""
	}
	return e.PathTo(p)
}

// Connected reports whether the endpoint currently has an authenticated
// connection.
func (e *Endpoint) Connected() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conn != nil
}

// Messages returns the channel of incoming messages when Config.OnMessage
// is nil (else nil). It is closed when the Endpoint stops; a reader that
// does not drain it stalls the connection (backpressure).
func (e *Endpoint) Messages() <-chan *Message { return e.inbox }

// Done is closed when the Endpoint stops: after Close, or when the
// connection is lost and no reconnect is left.
func (e *Endpoint) Done() <-chan struct{} { return e.done }

// Err returns why the Endpoint stopped (ErrClosed after Close), or nil
// while it runs.
func (e *Endpoint) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Close closes the connection, fails every outstanding send with
// ErrClosed and waits for the Endpoint's goroutines. It is idempotent.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		<-e.done
		return nil
	}
	e.closed = true
	close(e.closing)
	c, running, own := e.conn, e.running, e.sess.uri
	var extra []*transport.Conn
	for x := range e.extra {
		extra = append(extra, x)
	}
	e.mu.Unlock()
	for _, x := range extra {
		_ = x.Close(transport.ReasonLocal, "endpoint closed")
	}
	if e.ln != nil {
		if u, err := msrp.ParseURI(own); err == nil {
			e.ln.remove(u.SessionID, e)
		}
	}
	if c != nil {
		_ = c.Close(transport.ReasonLocal, "endpoint closed")
	}
	if !running {
		// No read loop ever started (a session without a relay whose
		// connection never came): nothing else ends it.
		e.finish()
	}
	e.wg.Wait()
	if e.ownTr {
		e.tr.Close() // a dial still under way fails
	}
	return nil
}

// NewTransport returns the transport Host an Endpoint of cfg dials
// through: cfg's Keepalive and LoggerFactory, host names looked up with
// cfg.Resolver. Dial makes one of its own unless Config.Transport gives
// one; a program with many endpoints (a load generator) makes one with
// NewTransport and shares it, so that one keepalive Scheduler probes all
// their connections.
func NewTransport(cfg Config) (*transport.Host, error) {
	res := cfg.Resolver
	if res == nil {
		res = srv.System()
	}
	lf := cfg.LoggerFactory
	if lf == nil {
		lf = logging.NewDefaultLoggerFactory()
	}
	h, err := transport.New(transport.Config{
		Keepalive:     cfg.Keepalive,
		DialContext:   resolvingDialer(res),
		LoggerFactory: lf,
	})
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	return h, nil
}

// finish marks the Endpoint stopped: once, by its read loop, or by Close
// when there never was one.
func (e *Endpoint) finish() {
	e.finishOnce.Do(func() {
		e.mu.Lock()
		if e.err == nil {
			e.err = ErrClosed
		}
		e.mu.Unlock()
		if e.inbox != nil {
			close(e.inbox)
		}
		close(e.done)
	})
}

// markBound records that a request from the peer arrived.
func (e *Endpoint) markBound() {
	e.boundOnce.Do(func() { close(e.bound) })
}

// install makes c the current connection.
func (e *Endpoint) install(c *transport.Conn, s session) {
	e.mu.Lock()
	e.conn, e.sess = c, s
	e.armRefreshLocked(c)
	e.mu.Unlock()
}

func (e *Endpoint) emit(ev Event) {
	if e.cfg.OnEvent != nil {
		e.cfg.OnEvent(ev)
	}
}

// current returns the connection and session, or an error while there is
// none.
func (e *Endpoint) current() (*transport.Conn, session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
		return nil, session{}, ErrClosed
	case e.conn == nil && e.err != nil:
		return nil, session{}, e.err
	case e.conn == nil:
		return nil, session{}, ErrNotConnected
	}
	return e.conn, e.sess, nil
}

// Stats returns the keepalive counters of the current connection (zero
// while there is none).
func (e *Endpoint) Stats() keepalive.Stats {
	e.mu.Lock()
	c := e.conn
	e.mu.Unlock()
	if c == nil {
		return keepalive.Stats{}
	}
	return c.Stats()
}

// LocalAddr returns the local address of the current connection, or nil.
func (e *Endpoint) LocalAddr() net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	return e.conn.LocalAddr()
}

// Transport returns "ws" for a WebSocket relay (ws or wss) and "tcp"
// otherwise (tcp or tls, or no relay).
func (e *Endpoint) Transport() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sess.target.ws {
		return "ws"
	}
	return "tcp"
}
