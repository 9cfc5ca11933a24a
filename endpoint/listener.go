package endpoint

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// DefaultBindTimeout is how long an accepted connection may take to send
// its first request before the Listener closes it.
const DefaultBindTimeout = 30 * time.Second

// ListenerConfig configures a Listener. The zero value of every field
// means its default.
type ListenerConfig struct {
	// Host is the host put in the URIs of the Listener's sessions, what
	// peers dial. "" means the listening IP address (127.0.0.1 for an
	// unspecified one).
	Host string
	// TLSConfig, if set, makes the Listener accept TLS (msrps URIs).
	TLSConfig *tls.Config
	// Keepalive configures liveness probing of accepted connections
	// (Interval < 0 disables it).
	Keepalive keepalive.Config
	// BindTimeout bounds the wait for an accepted connection's first
	// request. 0 means DefaultBindTimeout (30s).
	BindTimeout time.Duration
	// LoggerFactory makes the "endpoint" logger and the transport's
	// loggers; nil means logging.NewDefaultLoggerFactory().
	LoggerFactory logging.LoggerFactory
}

// Listener accepts the MSRP connections of sessions without a relay
// (RFC 4975 section 5.4): an Endpoint made with Config.Listener has a
// URI on the Listener's address, and the peer that is active (RFC 6135)
// connects here. The first request on a connection names the session in
// the last URI of its To-Path; the connection then belongs to that
// session, whatever port the peer's own URI names, and nothing else. One
// Listener serves any number of sessions.
type Listener struct {
	l      net.Listener
	cfg    ListenerConfig
	log    logging.LeveledLogger
	scheme string
	host   string
	port   int

	mu       sync.Mutex
	sessions map[string]*Endpoint // by session-id
	closed   bool
	done     chan struct{}
}

// NewListener serves l (a TCP listener) for sessions without a relay. It
// returns at once; Close stops it.
func NewListener(l net.Listener, cfg ListenerConfig) (*Listener, error) {
	if cfg.LoggerFactory == nil {
		cfg.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	if cfg.BindTimeout == 0 {
		cfg.BindTimeout = DefaultBindTimeout
	}
	if cfg.BindTimeout < 0 {
		return nil, fmt.Errorf("%w: negative BindTimeout", ErrBadConfig)
	}
	ta, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("%w: listener on %s is not TCP", ErrBadConfig, l.Addr())
	}
	tr, err := transport.New(transport.Config{
		Keepalive:     cfg.Keepalive,
		TLSConfig:     cfg.TLSConfig,
		LoggerFactory: cfg.LoggerFactory,
	})
	if err != nil {
		return nil, fmt.Errorf("endpoint: listener: %w", err)
	}
	ln := &Listener{
		l:        l,
		cfg:      cfg,
		log:      cfg.LoggerFactory.NewLogger("endpoint"),
		scheme:   "msrp",
		host:     cfg.Host,
		port:     ta.Port,
		sessions: map[string]*Endpoint{},
		done:     make(chan struct{}),
	}
	if cfg.TLSConfig != nil {
		ln.scheme = "msrps"
	}
	if ln.host == "" {
		ln.host = ta.IP.String()
		if ta.IP.IsUnspecified() {
			ln.host = "127.0.0.1"
		}
	}
	go func() {
		defer close(ln.done)
		serve := tr.ServeStream
		if cfg.TLSConfig != nil {
			serve = tr.ServeTLS
		}
		err := serve(l, ln.handle)
		if !errors.Is(err, net.ErrClosed) {
			ln.log.Errorf("MSRP listener on %s stopped: %v", l.Addr(), err)
		}
	}()
	return ln, nil
}

// Addr returns the listening address.
func (ln *Listener) Addr() net.Addr { return ln.l.Addr() }

// Close stops accepting connections. Sessions already connected go on;
// sessions still waiting for their peer get no connection.
func (ln *Listener) Close() error {
	ln.mu.Lock()
	if ln.closed {
		ln.mu.Unlock()
		return nil
	}
	ln.closed = true
	ln.mu.Unlock()
	err := ln.l.Close()
	<-ln.done
	return err
}

// newURI makes a session URI on the Listener's address.
func (ln *Listener) newURI() string {
	u := msrp.URI{Scheme: ln.scheme, Host: ln.host, Port: ln.port, SessionID: msrp.NewSessionID(), Transport: "tcp"}
	return u.String()
}

func (ln *Listener) add(id string, e *Endpoint) error {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.closed {
		return fmt.Errorf("endpoint: listener on %s: %w", ln.l.Addr(), ErrClosed)
	}
	ln.sessions[id] = e
	return nil
}

func (ln *Listener) remove(id string, e *Endpoint) {
	ln.mu.Lock()
	if ln.sessions[id] == e {
		delete(ln.sessions, id)
	}
	ln.mu.Unlock()
}

// handle runs an accepted connection: its first request picks the session
// (RFC 4975 section 7.3), whose read loop then runs here.
func (ln *Listener) handle(c *transport.Conn) {
	peer := c.RemoteAddr()
	t := time.AfterFunc(ln.cfg.BindTimeout, func() {
		ln.log.Infof("MSRP connection from %s sent no request within %v; closing", peer, ln.cfg.BindTimeout)
		_ = c.Close(transport.ReasonPolicy, "no request")
	})
	f, err := c.Read()
	t.Stop()
	if err != nil {
		ln.log.Debugf("MSRP connection from %s closed before its first request: %v", peer, err)
		return
	}
	m := f.Msg
	if f.Err != nil || m == nil || !m.IsRequest() {
		ln.log.Warnf("MSRP connection from %s: first message is no valid request (%v); closing", peer, f.Err)
		return
	}
	refuse := func(code int, why string) {
		ln.log.Warnf("MSRP connection from %s: %s %s: %s; answering %d and closing", peer, m.Method, m.TransactionID, why, code)
		if m.Method != msrp.MethodREPORT {
			_ = c.Send(m.Response(code, why))
		}
	}
	to, err := m.ToPath()
	if err != nil {
		refuse(400, "bad To-Path")
		return
	}
	from, err := m.FromPath()
	if err != nil {
		refuse(400, "bad From-Path")
		return
	}
	own := to[len(to)-1]
	ln.mu.Lock()
	e := ln.sessions[own.SessionID]
	ln.mu.Unlock()
	if e == nil || len(to) != 1 {
		refuse(481, "no such session")
		return
	}
	code, why, extra := e.accept(c, own, from)
	if code != 0 {
		refuse(code, why)
		return
	}
	if extra {
		ln.log.Infof("MSRP connection from %s, the relay of session %s's peer, read as a further connection", peer, own)
		e.serveExtra(c, &f)
		return
	}
	ln.log.Infof("MSRP connection from %s bound to session %s", peer, own)
	e.run(c, &f)
}
