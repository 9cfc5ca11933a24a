//go:build !unix

package relay

import "time"

// cpuTime returns 0: getrusage is for Unix systems, and the benchmarks
// that report CPU time are run on Linux.
func cpuTime() time.Duration { return 0 }
