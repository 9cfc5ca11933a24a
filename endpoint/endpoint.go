package endpoint

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
)

// Endpoint is an MSRP endpoint with one connection to its relay and one
// session (Use-Path) on it. Create it with Dial; see the package
// documentation for its concurrency rules.
type Endpoint struct {
	cfg    Config
	log    logging.LeveledLogger
	target relayTarget
	tcfg   transport.Config

	window  chan struct{} // one token per outstanding SEND chunk
	inbox   chan *Message // when Config.OnMessage is nil
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the Endpoint stops for good
	wg      sync.WaitGroup

	mu      sync.Mutex
	conn    *transport.Conn // nil while reconnecting or after the end
	sess    session         // of conn
	txns    map[string]*txn
	outs    map[string]*outMsg // by Message-ID
	failed  recentIDs          // messages that ended in failure lately
	refresh *time.Timer
	closed  bool
	err     error // why the Endpoint stopped
}

// session is what one connection's AUTH gave.
type session struct {
	uri     string // our own URI (From-Path)
	usePath string
	expires time.Duration
}

func (s session) path() string { return s.usePath + " " + s.uri }

// Dial connects to the relay, authenticates and returns an Endpoint whose
// session is ready: Path() is what a peer needs.
func Dial(ctx context.Context, cfg Config) (*Endpoint, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t, err := parseRelay(cfg.Relay, cfg.RelayURI)
	if err != nil {
		return nil, err
	}
	e := &Endpoint{
		cfg:    cfg,
		log:    cfg.LoggerFactory.NewLogger("endpoint"),
		target: t,
		tcfg: transport.Config{
			Keepalive:     cfg.Keepalive,
			TLSConfig:     cfg.TLSConfig,
			LoggerFactory: cfg.LoggerFactory,
		},
		window:  make(chan struct{}, cfg.Window),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		txns:    map[string]*txn{},
		outs:    map[string]*outMsg{},
	}
	if cfg.OnMessage == nil {
		e.inbox = make(chan *Message, DefaultInboxSize)
	}
	if cfg.TLS.Insecure && t.secure {
		e.log.Warnf("TLS.Insecure: the certificate of %s is not verified; anyone on the path can read and change the session", cfg.Relay)
	}
	c, s, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	e.install(c, s)
	e.emit(Event{Kind: EventConnected, UsePath: s.usePath, Path: s.path()})
	e.wg.Add(2)
	go e.run(c)
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
	return e.UsePath() + " " + strings.Join(strings.Fields(peerPath), " ")
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
	c := e.conn
	e.mu.Unlock()
	if c != nil {
		_ = c.Close(transport.ReasonLocal, "endpoint closed")
	}
	e.wg.Wait()
	return nil
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
// otherwise (tcp or tls).
func (e *Endpoint) Transport() string {
	if e.target.ws {
		return "ws"
	}
	return "tcp"
}
