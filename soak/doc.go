// Package soak holds the tests that run msrpd as a process: the soak
// (soak_test.go: mixed load against one msrpd for a while, sampling its
// memory, goroutines and open files; `make soak` runs it for 10 minutes,
// `make test` for one) and the faults only a process can have
// (faults_test.go: a relay killed and restarted under its clients, a
// next-hop relay killed mid-transfer). It has no code of its own.
package soak
