package userdb

import (
	"bytes"
	"sync"

	"github.com/pion/logging"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// quiet keeps the stores' outage lines (expected here) out of the output.
var quiet = &logging.DefaultLoggerFactory{Writer: discard{}, DefaultLogLevel: logging.LogLevelError}
