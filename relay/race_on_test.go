//go:build race

package relay

// raceEnabled: the race detector changes allocation and pooling enough
// that heap bounds measured under it say nothing about the relay.
const raceEnabled = true
