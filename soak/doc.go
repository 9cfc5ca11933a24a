// Package soak holds the soak test of msrpd (soak_test.go): mixed load
// against one msrpd process for a while, sampling its memory, goroutines
// and open files. `make soak` runs it for 10 minutes; `make test` runs a
// 60-second version. It has no code of its own.
package soak
