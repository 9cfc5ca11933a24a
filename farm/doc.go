// Package farm tests msrpd as a farm: three msrpd processes on 127.0.0.1,
// 127.0.0.2 and 127.0.0.3 that reach each other over mutual TLS, read
// their users from one PostgreSQL subscriber table, and are found by
// their clients through DNS SRV records (a test DNS server). One relay
// is killed under its clients. docs/deploy.md is the recipe this test
// follows. It has no code of its own.
package farm
