//go:build race

package server

// raceEnabled reports a -race build, whose code runs several times slower.
const raceEnabled = true
