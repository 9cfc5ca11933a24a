// Package sqltest starts real PostgreSQL and MariaDB servers for tests,
// each in a temporary directory on a port of 127.0.0.1, as user nobody
// when the test runs as root (both servers refuse to run as root), and
// stops them when the test ends. scripts/install-sql.sh installs them
// from Debian. Without them a test skips loudly, or fails when
// MSRPD_SQL=1 (set by .ci/run after installing them).
package sqltest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// SubscriberPostgres and SubscriberMySQL create Kamailio's subscriber
// table as its auth_db module's schema (Kamailio 5.x) does.
const (
	SubscriberPostgres = `CREATE TABLE subscriber (
    id SERIAL PRIMARY KEY NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL,
    password VARCHAR(64) DEFAULT '' NOT NULL,
    ha1 VARCHAR(128) DEFAULT '' NOT NULL,
    ha1b VARCHAR(128) DEFAULT '' NOT NULL,
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain)
);
CREATE INDEX subscriber_username_idx ON subscriber (username);`
	SubscriberMySQL = "CREATE TABLE `subscriber` (" + `
    id INT(10) UNSIGNED AUTO_INCREMENT PRIMARY KEY NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL,
    password VARCHAR(64) DEFAULT '' NOT NULL,
    ha1 VARCHAR(128) DEFAULT '' NOT NULL,
    ha1b VARCHAR(128) DEFAULT '' NOT NULL,
    CONSTRAINT account_idx UNIQUE (username, domain)
)`
)

// Server is a database server of one test.
type Server struct {
	// Kind is "postgres" or "mariadb".
	Kind string
	// DSN is what the relay's --users-db takes: user msrpd, password
	// msrpd-pw, database msrpd, over TCP to 127.0.0.1.
	DSN string
	// Admin is connected as the database's superuser.
	Admin *sql.DB

	t    testing.TB
	dir  string
	port int
	argv []string
	// ready is a DSN that answers once the server does (PostgreSQL
	// accepts connections a moment before it answers them).
	ready string

	mu     sync.Mutex
	cmd    *exec.Cmd
	out    *os.File
	exited chan struct{} // closed when cmd has exited
}

// need skips the test, or fails it under MSRPD_SQL=1.
func need(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("MSRPD_SQL") == "1" {
		t.Fatalf("%s (MSRPD_SQL=1: the SQL servers must be installed; see scripts/install-sql.sh)", msg)
	}
	t.Skipf("*** %s: skipped; install them with scripts/install-sql.sh (MSRPD_SQL=1 makes this a failure) ***", msg)
}

// Postgres starts a PostgreSQL server with database msrpd and its user.
func Postgres(t testing.TB) *Server {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		need(t, "PostgreSQL is not installed")
	}
	sort.Strings(bins)
	bin := filepath.Dir(bins[len(bins)-1])
	s := newServer(t, "postgres")
	data := filepath.Join(s.dir, "data")
	s.run(t, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	s.ready = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	s.argv = []string{filepath.Join(bin, "postgres"), "-D", data, "-k", s.dir, "-h", "127.0.0.1", "-p", strconv.Itoa(s.port),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=16MB"}
	s.Start()
	admin, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port))
	if err != nil {
		t.Fatal(err)
	}
	s.Admin = admin
	s.Exec("CREATE ROLE msrpd LOGIN PASSWORD 'msrpd-pw'")
	s.Exec("CREATE DATABASE msrpd OWNER msrpd")
	admin.Close()
	// From now on the admin works in database msrpd.
	if s.Admin, err = sql.Open("pgx", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/msrpd?sslmode=disable", s.port)); err != nil {
		t.Fatal(err)
	}
	s.Exec(SubscriberPostgres)
	s.Exec("GRANT SELECT ON subscriber TO msrpd")
	s.DSN = fmt.Sprintf("postgres://msrpd:msrpd-pw@127.0.0.1:%d/msrpd?sslmode=disable", s.port)
	return s
}

// MariaDB starts a MariaDB server with database msrpd and its user.
func MariaDB(t testing.TB) *Server {
	t.Helper()
	install, err1 := exec.LookPath("mariadb-install-db")
	daemon, err2 := exec.LookPath("mariadbd")
	if err1 != nil || err2 != nil {
		if daemon, err2 = exec.LookPath("/usr/sbin/mariadbd"); err1 != nil || err2 != nil {
			need(t, "MariaDB is not installed")
		}
	}
	s := newServer(t, "mariadb")
	data := filepath.Join(s.dir, "data")
	sock := filepath.Join(s.dir, "sock")
	s.run(t, install, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve", "--innodb-buffer-pool-size=16M")
	s.argv = []string{daemon, "--no-defaults", "--datadir=" + data, "--socket=" + sock, "--port=" + strconv.Itoa(s.port),
		"--bind-address=127.0.0.1", "--skip-name-resolve", "--pid-file=" + filepath.Join(s.dir, "pid"),
		"--tmpdir=" + s.dir, "--innodb-buffer-pool-size=16M", "--innodb-flush-log-at-trx-commit=0",
		"--innodb-doublewrite=0", "--skip-log-bin", "--log-error=" + filepath.Join(s.dir, "error.log")}
	s.Start()
	mc := mysql.NewConfig()
	mc.User, mc.Net, mc.Addr, mc.MultiStatements = "root", "unix", sock, true
	admin, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	s.Admin = admin
	s.Exec("CREATE DATABASE msrpd")
	s.Exec("CREATE USER 'msrpd'@'%' IDENTIFIED BY 'msrpd-pw'")
	s.Exec("GRANT SELECT ON msrpd.* TO 'msrpd'@'%'")
	mc.DBName = "msrpd"
	admin.Close()
	if s.Admin, err = sql.Open("mysql", mc.FormatDSN()); err != nil {
		t.Fatal(err)
	}
	s.Exec(SubscriberMySQL)
	s.DSN = fmt.Sprintf("mysql://msrpd:msrpd-pw@127.0.0.1:%d/msrpd", s.port)
	return s
}

func newServer(t testing.TB, kind string) *Server {
	t.Helper()
	// Not t.TempDir(): its parents are closed to other users.
	dir, err := os.MkdirTemp("", "msrpd-"+kind+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unprivilegedDir(dir); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Kind: kind, t: t, dir: dir, port: l.Addr().(*net.TCPAddr).Port}
	l.Close()
	t.Cleanup(func() {
		if s.Admin != nil {
			s.Admin.Close()
		}
		s.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "server.log")); err == nil {
				t.Logf("%s log:\n%s", kind, b)
			}
		}
		os.RemoveAll(dir)
	})
	return s
}

// run runs a setup command to its end.
func (s *Server) run(t testing.TB, argv ...string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir
	if err := unprivileged(cmd); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(argv[0]), err, out)
	}
}

// Start starts the server (again) and waits until it takes connections.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, out, out
	if err := unprivileged(cmd); err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		out.Close()
		s.t.Fatalf("start %s: %v", s.Kind, err)
	}
	s.cmd, s.out = cmd, out
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second)
		if err == nil {
			c.Close()
			if s.answers() {
				break
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
			s.t.Fatalf("%s exited at start:\n%s", s.Kind, b)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s did not listen within 30 s", s.Kind)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.exited = exited
}

// answers reports whether the server answers a ping.
func (s *Server) answers() bool {
	if s.ready == "" {
		return true
	}
	db, err := sql.Open("pgx", s.ready)
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

// Stop stops the server: its clients' connections break and new ones
// are refused until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	// SIGINT is PostgreSQL's fast shutdown; MariaDB takes SIGTERM.
	sig := syscall.SIGTERM
	if s.Kind == "postgres" {
		sig = syscall.SIGINT
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.out.Close()
	s.cmd = nil
}

// Exec runs statements as the superuser.
func (s *Server) Exec(query string, args ...any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Admin.ExecContext(ctx, query, args...); err != nil {
		s.t.Fatalf("%s: %s: %v", s.Kind, strings.SplitN(query, "\n", 2)[0], err)
	}
}
