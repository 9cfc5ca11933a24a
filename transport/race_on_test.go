//go:build race

package transport

// raceEnabled: the race detector changes allocation and pooling (sync.Pool
// drops items at random under it), so allocation counts say nothing.
const raceEnabled = true
