package eval

import (
	"math/rand/v2"
	"strings"
)

// GenerateFiller returns n random English sentences drawn with seed: plain
// subject-verb-object sentences from small word lists, with no digits, for
// needle prompts that do not come from any model's training text.
func GenerateFiller(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	adj, noun := strings.Fields(fillerAdjectives), strings.Fields(fillerNouns)
	verb, place := strings.Fields(fillerVerbs), strings.Fields(fillerPlaces)
	pick := func(ws []string) string { return ws[rng.IntN(len(ws))] }
	out := make([]string, n)
	for i := range out {
		var s string
		switch rng.IntN(3) {
		case 0:
			s = "the " + pick(adj) + " " + pick(noun) + " " + pick(verb) + " a " + pick(noun) + " near the " + pick(place)
		case 1:
			s = "every " + pick(noun) + " in the " + pick(place) + " " + pick(verb) + " the " + pick(adj) + " " + pick(noun)
		default:
			s = "a " + pick(adj) + " " + pick(noun) + " and a " + pick(noun) + " " + pick(verb) + " the " + pick(noun)
		}
		out[i] = strings.ToUpper(s[:1]) + s[1:] + "."
	}
	return out
}

// Word lists of GenerateFiller.
const (
	fillerAdjectives = `quiet old small bright heavy narrow gentle distant busy silent
		green wooden early careful patient simple broken warm cold hidden`
	fillerNouns = `farmer teacher river engine letter village student machine
		doctor window market painter bottle sailor garden printer cloud
		server package driver library kitchen message`
	fillerVerbs = `carries watches repairs follows paints finds builds moves
		opens cleans reads sends keeps checks holds`
	fillerPlaces = `station harbor school valley office factory bridge forest
		square tower museum border`
)
