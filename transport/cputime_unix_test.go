//go:build unix

package transport

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time this process used so
// far.
func processCPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
