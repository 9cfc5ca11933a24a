package userdb

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/internal/relaytest"
	"github.com/msrpd/msrpd/internal/sqltest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
)

const realm = "farm.test"

func TestOpenDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, name string }{
		{"postgres://u:secret@db.example:5432/k?sslmode=disable", "postgres://u:xxx@db.example:5432/k?sslmode=disable"},
		{"postgresql://u@db.example/k", "postgresql://u@db.example/k"},
		{"mysql://kamailio:kamailiorw@localhost/kamailio", "mysql://kamailio:xxx@localhost/kamailio"},
		{"mysql://u:p@127.0.0.1:3307/k?timeout=1s", "mysql://u:xxx@127.0.0.1:3307/k?timeout=1s"},
	} {
		s, err := Open(Config{DSN: tc.dsn})
		if err != nil {
			t.Errorf("Open(%q): %v", tc.dsn, err)
			continue
		}
		if s.Name() != tc.name {
			t.Errorf("Name() = %q, want %q", s.Name(), tc.name)
		}
		s.Close()
	}
	for _, dsn := range []string{"", "sqlite:///tmp/x", "user:secret@tcp(host)/db"} {
		_, err := Open(Config{DSN: dsn})
		if !errors.Is(err, ErrDSN) {
			t.Errorf("Open(%q): %v, want ErrDSN", dsn, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// The subscriber table of Kamailio/OpenSIPS, in a real PostgreSQL and a
// real MariaDB: HA1 and clear passwords, wrong password, unknown user,
// another domain's user; the database stopped while two clients chat
// (new AUTHs get 500, the chat goes on, a user found before still logs
// in from the cache) and started again (AUTHs work without a restart).
func TestSubscriberTable(t *testing.T) {
	for _, kind := range []string{"postgres", "mariadb"} {
		t.Run(kind, func(t *testing.T) {
			start := time.Now()
			var db *sqltest.Server
			if kind == "postgres" {
				db = sqltest.Postgres(t)
			} else {
				db = sqltest.MariaDB(t)
			}
			t.Logf("%s up in %v", kind, time.Since(start).Round(time.Millisecond))
			insert := "INSERT INTO subscriber (username, domain, password, ha1) VALUES ($1, $2, $3, $4)"
			if kind == "mariadb" {
				insert = "INSERT INTO subscriber (username, domain, password, ha1) VALUES (?, ?, ?, ?)"
			}
			db.Exec(insert, "alice", realm, "", relay.HA1("alice", realm, "pw-alice"))
			db.Exec(insert, "bob", realm, "pw-bob", "")
			db.Exec(insert, "carol", realm, "pw-carol", "")
			db.Exec(insert, "dave", "other.test", "pw-dave", "")
			db.Exec(insert, "erin", realm, "", "") // neither: cannot log in

			store, err := Open(Config{DSN: db.DSN, Timeout: time.Second, LoggerFactory: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			r := startRelay(t, store)

			a := dialUser(t, r, "alice", "pw-alice")
			b := dialUser(t, r, "bob", "pw-bob")
			chat(t, a, b, "hello bob")
			chat(t, b, a, "hello alice")
			for _, bad := range []struct{ user, pass, why string }{
				{"alice", "pw-bob", "wrong password (ha1 row)"},
				{"bob", "pw-alice", "wrong password (clear row)"},
				{"mallory", "pw", "unknown user"},
				{"dave", "pw-dave", "user of another domain"},
				{"erin", "", "row without ha1 nor password"},
			} {
				if _, err := tryDial(r, bad.user, bad.pass); !errors.Is(err, endpoint.ErrAuth) {
					t.Errorf("%s: %v, want ErrAuth", bad.why, err)
				}
			}

			db.Stop()
			_, err = tryDial(r, "carol", "pw-carol")
			if code := endpoint.StatusCode(err); code != 500 {
				t.Fatalf("AUTH with the database stopped: %v, want a 500", err)
			}
			chat(t, a, b, "the database is down")
			chat(t, b, a, "and we still chat")
			// alice was found a moment ago: the cache still knows her.
			if e, err := tryDial(r, "alice", "pw-alice"); err != nil {
				t.Errorf("alice (cached) with the database stopped: %v", err)
			} else {
				e.Close()
			}
			if st := r.Server.Stats(); st.AuthUnavailable == 0 || st.AuthFailures != 5 {
				t.Errorf("stats %+v: want AUTHs answered 500 and the 5 bad ones only as failures", st)
			}

			db.Start()
			deadline := time.Now().Add(10 * time.Second)
			for {
				e, err := tryDial(r, "carol", "pw-carol")
				if err == nil {
					chat(t, e, a, "carol is in")
					e.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("carol after the database came back: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !strings.Contains(r.Logs.String(), "answered 500: credentials unavailable") {
				t.Errorf("no log line for the refused AUTH:\n%s", r.Logs.String())
			}
		})
	}
}

// --users-db-query reads another schema: one column, other names.
func TestCustomQuery(t *testing.T) {
	db := sqltest.Postgres(t)
	db.Exec("CREATE TABLE accounts (login TEXT, realm TEXT, digest TEXT)")
	db.Exec("GRANT SELECT ON accounts TO msrpd")
	db.Exec("INSERT INTO accounts VALUES ($1, $2, $3)", "zoe", realm, strings.ToUpper(relay.HA1("zoe", realm, "pw-zoe")))
	store, err := Open(Config{DSN: db.DSN, Query: "SELECT digest FROM accounts WHERE login = $1 AND realm = $2", CacheTTL: -1, LoggerFactory: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	ha1, ok, err := store.LookupHA1(ctx, "zoe", realm)
	if err != nil || !ok || ha1 != relay.HA1("zoe", realm, "pw-zoe") {
		t.Errorf("zoe: %q %v %v, want her HA1 in lower case", ha1, ok, err)
	}
	if _, ok, err := store.LookupHA1(ctx, "zoe", "elsewhere"); ok || err != nil {
		t.Errorf("zoe elsewhere: %v %v, want not found", ok, err)
	}
	bad, _ := Open(Config{DSN: db.DSN, Query: "SELECT 1, 2, 3 WHERE $1::text <> $2::text", LoggerFactory: quiet})
	defer bad.Close()
	if _, _, err := bad.LookupHA1(ctx, "zoe", realm); err == nil || !strings.Contains(err.Error(), "3 columns") {
		t.Errorf("three columns: %v", err)
	}
	// CacheTTL -1: a stopped database is an error at once.
	db.Stop()
	if _, _, err := store.LookupHA1(ctx, "zoe", realm); err == nil {
		t.Error("lookup with the database stopped and no cache: no error")
	}
}

// startRelay runs a relay whose credentials come from store, with a TCP
// listener.
func startRelay(t *testing.T, store *Store) *relaytest.Relay {
	t.Helper()
	return relaytest.Start(t, relaytest.Options{
		WSAddr: "-",
		Realm:  realm,
		Config: func(c *relay.Config) {
			c.Credentials = store
			c.MaxAuthFailuresPerSource = -1
		},
	})
}

func tryDial(r *relaytest.Relay, user, pass string) (*endpoint.Endpoint, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return endpoint.Dial(ctx, endpoint.Config{Relay: r.TCP, User: user, Password: pass,
		Keepalive:     keepalive.Config{Interval: -1},
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: discard{}, DefaultLogLevel: logging.LogLevelError}})
}

func dialUser(t *testing.T, r *relaytest.Relay, user, pass string) *endpoint.Endpoint {
	t.Helper()
	e, err := tryDial(r, user, pass)
	if err != nil {
		t.Fatalf("%s: %v", user, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func chat(t *testing.T, from, to *endpoint.Endpoint, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := from.Send(ctx, from.PathTo(to.Path()), "text/plain", []byte(text)); err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	select {
	case m := <-to.Messages():
		if m == nil || string(m.Body) != text {
			t.Fatalf("got %v, want %q", m, text)
		}
	case <-ctx.Done():
		t.Fatalf("%q did not arrive", text)
	}
}

// A database that takes connections but never answers (a hung server, a
// black-holed route) is an error within the timeout, for both drivers.
func TestSilentDatabaseTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // read nothing, answer nothing
		}
	}()
	defer func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, dsn := range []string{
		"postgres://u:p@" + l.Addr().String() + "/db?sslmode=disable",
		"mysql://u:p@" + l.Addr().String() + "/db",
	} {
		s, err := Open(Config{DSN: dsn, Timeout: 200 * time.Millisecond, LoggerFactory: quiet})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, ok, err := s.LookupHA1(context.Background(), "alice", realm)
		if err == nil || ok {
			t.Errorf("%s: %v %v, want an error", dsn, ok, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %v with a 200 ms timeout", dsn, d)
		}
		s.Close()
	}
}
