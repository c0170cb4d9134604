//go:build !race

package interop

// raceEnabled reports whether the race detector is on (see race_test.go).
const raceEnabled = false

// raceLoadConns is the connection count of the load tests under -race.
const raceLoadConns = 200
