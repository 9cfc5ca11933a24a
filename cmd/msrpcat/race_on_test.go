//go:build race

package main

// raceEnabled: msrpcat binaries built for the tests carry the race
// detector too; memory measured under it says nothing.
const raceEnabled = true
