//go:build race

package protocol

// The race detector makes sync.Pool drop items at random: allocation counts
// are meaningless under it.
const raceEnabled = true
