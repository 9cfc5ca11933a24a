// Package accounting records MSRP sessions for billing and audit: one
// JSON line per Use-Path session when it ends (it expired, its
// connection closed, the relay shut down, an operator closed it), with
// who, from where, how long, and how much went through it. Records never
// hold a password or a message body.
//
// A Log appends to a file and reopens it on request (SIGHUP in msrpd),
// so that logrotate can move the file away; without a file each record
// goes to the logger at info level. A Log is safe for concurrent use.
package accounting

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/relay"
)

// Record is one ended session, as written to the log.
type Record struct {
	Time      time.Time `json:"time"` // when the session ended
	User      string    `json:"user"`
	Realm     string    `json:"realm"`
	Transport string    `json:"transport"` // ws, wss, tcp or tls
	Peer      string    `json:"peer"`      // the client's address
	Session   string    `json:"session"`   // the session id
	URI       string    `json:"uri"`       // the Use-Path URI
	Start     time.Time `json:"start"`
	// Duration is in seconds.
	Duration       float64 `json:"duration"`
	ChunksIn       uint64  `json:"chunks_in"`
	BytesIn        uint64  `json:"bytes_in"`
	MessagesIn     uint64  `json:"messages_in"`
	ChunksOut      uint64  `json:"chunks_out"`
	BytesOut       uint64  `json:"bytes_out"`
	MessagesOut    uint64  `json:"messages_out"`
	FailureReports uint64  `json:"failure_reports"`
	// Reason is why the session ended: expired, connection-closed,
	// shutdown or admin-close; Detail the connection's close reason or
	// the operator's.
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// NewRecord returns the record of an ended session.
func NewRecord(i relay.SessionInfo) Record {
	return Record{
		Time:           i.End.UTC(),
		User:           i.User,
		Realm:          i.Realm,
		Transport:      i.Transport,
		Peer:           i.Peer,
		Session:        i.ID,
		URI:            i.URI,
		Start:          i.Start.UTC(),
		Duration:       i.Duration().Seconds(),
		ChunksIn:       i.ChunksIn,
		BytesIn:        i.BytesIn,
		MessagesIn:     i.MessagesIn,
		ChunksOut:      i.ChunksOut,
		BytesOut:       i.BytesOut,
		MessagesOut:    i.MessagesOut,
		FailureReports: i.FailureReports,
		Reason:         i.EndReason.String(),
		Detail:         i.Detail,
	}
}

// Log writes records as JSON lines to a file, or to a logger.
type Log struct {
	path string
	log  logging.LeveledLogger

	mu sync.Mutex
	f  *os.File // nil without a file, or after a failed reopen
}

// fileMode keeps the records (user names, addresses) from other users.
const fileMode = 0o640

// Open returns a Log appending to path, created if missing; with path ""
// records are logged at info level to log instead.
func Open(path string, log logging.LeveledLogger) (*Log, error) {
	l := &Log{path: path, log: log}
	if path == "" {
		return l, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return nil, err
	}
	l.f = f
	return l, nil
}

// Path returns the file the Log writes, or "".
func (l *Log) Path() string { return l.path }

// SessionEnded writes the record of an ended session; it is what msrpd
// sets as relay.Events.OnSessionEnd. A record that cannot be written to
// the file goes to the logger at error level, so it is not lost.
func (l *Log) SessionEnded(i relay.SessionInfo) {
	line, err := json.Marshal(NewRecord(i))
	if err != nil { // a Record always marshals; this is for safety
		l.log.Errorf("accounting: %v", err)
		return
	}
	if l.path == "" {
		l.log.Infof("session ended: %s", line)
		return
	}
	line = append(line, '\n')
	l.mu.Lock()
	f := l.f
	if f == nil {
		err = fmt.Errorf("%s is not open", l.path)
	} else {
		_, err = f.Write(line) // O_APPEND: one write, one whole line
	}
	l.mu.Unlock()
	if err != nil {
		l.log.Errorf("accounting log: %v; the record: %s", err, line[:len(line)-1])
	}
}

// Reopen closes the file and opens path anew, for log rotation: the
// rotated file is finished and new records go to a new file at path. On
// failure the Log keeps writing to the old file if it can and returns the
// error.
func (l *Log) Reopen() error {
	if l.path == "" {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// Close closes the file; later records go to the logger as errors.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
