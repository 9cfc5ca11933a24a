package faultproxy

// tuneUpstream does nothing on Windows, whose syscall package lacks the
// socket options; the proxy then runs with the system's defaults.
func tuneUpstream(fd, bufSize int) {}
