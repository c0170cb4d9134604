//go:build race

package lua

// raceEnabled: the race detector enlarges stacks and heap, so memory bounds
// are not checked.
const raceEnabled = true
