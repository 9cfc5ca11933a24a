//go:build !linux

package faultproxy

// tuneUpstream does nothing off Linux: the proxy's tests and the tests
// that use it run on Linux, and other systems only need it to build.
func tuneUpstream(fd uintptr, bufSize int) {}
