// Package userdb reads the relay's Digest credentials from an SQL
// database: by default the subscriber table that Kamailio and OpenSIPS
// (and other SIP platforms) keep, so a relay joins a SIP platform with
// the same users and passwords as its proxy and no state of its own to
// replicate. PostgreSQL (github.com/jackc/pgx) and MySQL/MariaDB
// (github.com/go-sql-driver/mysql) are supported.
//
// A Store is a relay.CredentialLookup: a lookup the database cannot
// answer is an error (the relay answers that AUTH 500), found users are
// kept for a short time, and database/sql reconnects by itself once the
// database is back.
package userdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/digest"
)

// The default queries read the Kamailio/OpenSIPS subscriber table: the
// HA1 of a user in a domain, and the clear password for rows whose ha1
// is empty.
const (
	DefaultPostgresQuery = `SELECT ha1, password FROM subscriber WHERE username = $1 AND domain = $2`
	DefaultMySQLQuery    = "SELECT ha1, password FROM subscriber WHERE username = ? AND domain = ?"
)

// Defaults of Config.
const (
	DefaultCacheTTL = 30 * time.Second
	defaultTimeout  = 2 * time.Second
	maxCached       = 100000
)

// Config configures a Store.
type Config struct {
	// DSN names the database, in the URL forms Kamailio's db_url uses:
	// postgres://USER:PASSWORD@HOST[:PORT]/DB[?sslmode=...] (also
	// postgresql://, any libpq connection URL) or
	// mysql://USER:PASSWORD@HOST[:PORT]/DB[?PARAM=VALUE] (MariaDB too;
	// parameters as github.com/go-sql-driver/mysql takes them). Required.
	DSN string
	// Query returns the credentials of a user: its parameters are the
	// user name and the realm, in that order ($1 and $2 for PostgreSQL,
	// ? and ? for MySQL); its first row's first column is the HA1
	// (hex(MD5(user:realm:password))) and an optional second column the
	// clear password, used where the HA1 is NULL or empty. Default:
	// DefaultPostgresQuery or DefaultMySQLQuery.
	Query string
	// CacheTTL is how long a found user's HA1 is kept; -1 keeps none.
	// Users not found are never kept, so a new subscriber can log in at
	// once. Default: 30 s.
	CacheTTL time.Duration
	// Timeout bounds one lookup. Default: 2 s.
	Timeout time.Duration
	// LoggerFactory makes the "userdb" logger. Default: pion's default.
	LoggerFactory logging.LoggerFactory
}

// ErrDSN is a DSN that names no supported database.
var ErrDSN = errors.New("userdb: DSN must start with postgres://, postgresql:// or mysql://")

// Store looks up credentials in a database. It is safe for concurrent use.
type Store struct {
	db    *sql.DB
	query string
	cfg   Config
	log   logging.LeveledLogger
	now   func() time.Time
	// Name is the database without its password, for logs.
	name string

	mu    sync.Mutex
	cache map[key]cached
	down  bool // the last lookup failed: log the outage once
}

type key struct{ user, realm string }

type cached struct {
	ha1   string
	until time.Time
}

// Open prepares a Store. It does not wait for the database: a relay
// starts while its database is down, and answers AUTHs 500 until it is
// up.
func Open(cfg Config) (*Store, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.LoggerFactory == nil {
		cfg.LoggerFactory = logging.NewDefaultLoggerFactory()
	}
	s := &Store{cfg: cfg, log: cfg.LoggerFactory.NewLogger("userdb"), now: time.Now, cache: map[key]cached{}}
	scheme, _, _ := strings.Cut(cfg.DSN, "://")
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		pc, err := pgx.ParseConfig(cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("userdb: %s: %w", redact(cfg.DSN), err)
		}
		pc.ConnectTimeout = cfg.Timeout
		s.db = stdlib.OpenDB(*pc)
		s.query = DefaultPostgresQuery
	case "mysql":
		driverLog.Do(func() { mysql.SetLogger(mysqlLogger{s.log}) })
		mc, err := mysqlConfig(cfg.DSN, cfg.Timeout)
		if err != nil {
			return nil, err
		}
		conn, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, fmt.Errorf("userdb: %s: %w", redact(cfg.DSN), err)
		}
		s.db = sql.OpenDB(conn)
		s.query = DefaultMySQLQuery
	default:
		return nil, fmt.Errorf("%w (have %q)", ErrDSN, redact(cfg.DSN))
	}
	if cfg.Query != "" {
		s.query = cfg.Query
	}
	s.name = redact(cfg.DSN)
	// A few connections are plenty: lookups are short and cached, and a
	// farm of relays shares the database with the SIP proxy.
	s.db.SetMaxOpenConns(4)
	s.db.SetMaxIdleConns(2)
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	return s, nil
}

// driverLog sends the MySQL driver's messages ("closing bad idle
// connection" after a database restart), which it writes to one logger
// per process, to the first Store's logger at debug level.
var driverLog sync.Once

type mysqlLogger struct{ log logging.LeveledLogger }

func (l mysqlLogger) Print(v ...any) { l.log.Debug(strings.TrimSpace(fmt.Sprint(v...))) }

// mysqlConfig turns mysql://USER:PASSWORD@HOST[:PORT]/DB?PARAMS into the
// driver's Config.
func mysqlConfig(dsn string, timeout time.Duration) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("userdb: %s: %w", redact(dsn), err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(strings.Trim(u.Hostname(), "[]"), "3306")
	}
	native := "tcp(" + host + ")/" + strings.TrimPrefix(u.Path, "/")
	if u.RawQuery != "" {
		native += "?" + u.RawQuery
	}
	mc, err := mysql.ParseDSN(native)
	if err != nil {
		return nil, fmt.Errorf("userdb: %s: %w", redact(dsn), err)
	}
	if u.User != nil {
		mc.User = u.User.Username()
		mc.Passwd, _ = u.User.Password()
	}
	if mc.Timeout == 0 {
		mc.Timeout = timeout
	}
	return mc, nil
}

// redact drops the password from a DSN.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil || !strings.Contains(dsn, "://") {
		if at := strings.LastIndexByte(dsn, '@'); at >= 0 {
			if i := strings.Index(dsn, "://"); i >= 0 && i < at {
				return dsn[:i+3] + "...@" + dsn[at+1:]
			}
			return "...@" + dsn[at+1:]
		}
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}

// Name returns the database's DSN without its password.
func (s *Store) Name() string { return s.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("userdb: %s: %w", s.name, err)
	}
	return nil
}

// Close closes the database's connections.
func (s *Store) Close() error { return s.db.Close() }

// HA1 implements relay.CredentialStore; a database error is "unknown".
func (s *Store) HA1(user, realm string) (string, bool) {
	ha1, ok, _ := s.LookupHA1(context.Background(), user, realm)
	return ha1, ok
}

// LookupHA1 implements relay.CredentialLookup: the HA1 of user in realm,
// false when the query finds no row (or a row without HA1 nor
// password), an error when the database cannot be asked.
func (s *Store) LookupHA1(ctx context.Context, user, realm string) (string, bool, error) {
	k := key{user, realm}
	now := s.now()
	s.mu.Lock()
	if c, ok := s.cache[k]; ok && now.Before(c.until) {
		s.mu.Unlock()
		return c.ha1, true, nil
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	ha1, ok, err := s.query1(ctx, user, realm)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if !s.down {
			s.down = true
			s.log.Errorf("%s: lookups fail, AUTHs are answered 500 until it answers: %v", s.name, err)
		}
		return "", false, fmt.Errorf("userdb %s: %w", s.name, err)
	}
	if s.down {
		s.down = false
		s.log.Infof("%s: answering again", s.name)
	}
	if ok && s.cfg.CacheTTL > 0 {
		if len(s.cache) >= maxCached {
			for ck, c := range s.cache {
				if !now.Before(c.until) || len(s.cache) >= maxCached {
					delete(s.cache, ck)
				}
			}
		}
		s.cache[k] = cached{ha1: ha1, until: now.Add(s.cfg.CacheTTL)}
	}
	return ha1, ok, nil
}

// query1 runs the query and makes the HA1 of its first row.
func (s *Store) query1(ctx context.Context, user, realm string) (string, bool, error) {
	rows, err := s.db.QueryContext(ctx, s.query, user, realm)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", false, err
	}
	if len(cols) < 1 || len(cols) > 2 {
		return "", false, fmt.Errorf("query returns %d columns, want ha1 and optionally password", len(cols))
	}
	if !rows.Next() {
		return "", false, rows.Err()
	}
	var ha1, password sql.NullString
	dest := []any{&ha1}
	if len(cols) == 2 {
		dest = append(dest, &password)
	}
	if err := rows.Scan(dest...); err != nil {
		return "", false, err
	}
	if h := strings.TrimSpace(ha1.String); h != "" {
		return strings.ToLower(h), true, nil
	}
	if password.String != "" {
		return digest.HA1(user, realm, password.String), true, nil
	}
	return "", false, nil
}
