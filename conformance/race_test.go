//go:build race

package conformance

// raceEnabled scales the large-message series down under the race
// detector, which makes every byte copied cost far more.
const raceEnabled = true
