//go:build !unix

package transport

import "time"

// processCPU returns zeros: getrusage is for Unix systems, and the idle
// benchmarks that report CPU time need Linux's /proc anyway.
func processCPU() (user, sys time.Duration) { return 0, 0 }
