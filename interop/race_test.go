//go:build race

package interop

// raceEnabled: the race detector slows every memory access down several
// times, so the load tests use raceLoadConns connections under it (ci.sh
// runs them that way); without -race, and in the benchmarks, they use the
// full loadConns.
const raceEnabled = true

// raceLoadConns is the connection count of the load tests under -race.
const raceLoadConns = 200
