package userdb

import "github.com/pion/logging"

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// quiet keeps the stores' outage lines (expected here) out of the output.
var quiet = &logging.DefaultLoggerFactory{Writer: discard{}, DefaultLogLevel: logging.LogLevelError}
