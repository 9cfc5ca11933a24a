package accounting

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/relay"
)

func testLog(buf *bytes.Buffer) logging.LeveledLogger {
	lf := &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelInfo}
	return lf.NewLogger("accounting")
}

func ended(user string, bytesIn uint64) relay.SessionInfo {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return relay.SessionInfo{ID: "s-" + user, URI: "msrp://relay.test:2855/s-" + user + ";tcp", User: user, Realm: "test",
		Transport: "tcp", Peer: "192.0.2.1:5555", Start: start, End: start.Add(90 * time.Second),
		EndReason: relay.EndClosed, Detail: "peer-closed", BytesIn: bytesIn, ChunksIn: 2, MessagesIn: 1}
}

func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// TestLogAppendsAndReopens writes records from several goroutines,
// rotates the file as logrotate does (rename, then reopen), and checks
// that every record is one whole line in exactly one of the two files.
func TestLogAppendsAndReopens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acct.log")
	if err := os.WriteFile(path, []byte(`{"user":"before"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l, err := Open(path, testLog(&logs))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.SessionEnded(ended("u"+strings.Repeat("x", i), uint64(i)))
		}()
	}
	wg.Wait()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.SessionEnded(ended("late", 7)) // still to the renamed file
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.SessionEnded(ended("after", 42))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	old, cur := readRecords(t, path+".1"), readRecords(t, path)
	if len(old) != 22 || old[0].User != "before" || old[21].User != "late" {
		t.Fatalf("rotated file: %d records (first %q), want the earlier line, 20 records and late", len(old), old[0].User)
	}
	if len(cur) != 1 {
		t.Fatalf("new file: %d records, want 1", len(cur))
	}
	r := cur[0]
	if r.User != "after" || r.BytesIn != 42 || r.Duration != 90 || r.Reason != "connection-closed" || r.Detail != "peer-closed" ||
		r.Session != "s-after" || r.Transport != "tcp" || r.Peer != "192.0.2.1:5555" || !r.Time.Equal(r.Start.Add(90*time.Second)) {
		t.Errorf("record %+v", r)
	}
	if logs.Len() != 0 {
		t.Errorf("unexpected log output: %s", logs.String())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != fileMode {
		t.Errorf("new file mode %v (%v), want %v", fi.Mode().Perm(), err, os.FileMode(fileMode))
	}
}

// TestLogWithoutFile logs each record at info level.
func TestLogWithoutFile(t *testing.T) {
	var logs bytes.Buffer
	l, err := Open("", testLog(&logs))
	if err != nil {
		t.Fatal(err)
	}
	l.SessionEnded(ended("alice", 5))
	if !strings.Contains(logs.String(), "INFO") || !strings.Contains(logs.String(), `"user":"alice"`) || strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("log %q: want one info line with the record", logs.String())
	}
	if err := l.Reopen(); err != nil {
		t.Errorf("Reopen without a file: %v", err)
	}
}

// TestLogReopenFailureKeepsOldFile: when the path cannot be opened
// anymore, records still reach the old file and Reopen says why.
func TestLogReopenFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sub, "acct.log")
	var logs bytes.Buffer
	l, err := Open(path, testLog(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(sub, moved); err != nil { // the directory is gone
		t.Fatal(err)
	}
	if err := l.Reopen(); err == nil {
		t.Fatal("Reopen succeeded without its directory")
	}
	l.SessionEnded(ended("kept", 1))
	if recs := readRecords(t, filepath.Join(moved, "acct.log")); len(recs) != 1 || recs[0].User != "kept" {
		t.Errorf("old file: %+v, want the record", recs)
	}
}
