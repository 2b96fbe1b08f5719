package eval

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"sieve/tokenizer"
)

// Needle is one retrieval prompt: filler sentences with one fact (the
// needle) planted at a depth, then the question that asks for it.
type Needle struct {
	// Text is the prompt as text (the tokenizer adds BOS to Tokens).
	Text string
	// Tokens is Text encoded, BOS first.
	Tokens []int32
	// Word and Number are the needle's key and value.
	Word, Number string
	// Depth is the requested depth in [0, 1]: the share of the filler
	// sentences before the needle.
	Depth float64
	// At is the byte offset of the needle in Text.
	At int
}

// NeedleSentence is the planted fact for word and number.
func NeedleSentence(word, number string) string {
	return fmt.Sprintf("The special magic number for %s is %s.", word, number)
}

// NeedleQuestion is the question that ends the prompt; the model answers it
// by continuing with the number.
func NeedleQuestion(word string) string {
	return fmt.Sprintf("What is the special magic number for %s? The special magic number for %s is", word, word)
}

// NeedleGenerator builds needle prompts from filler sentences.
type NeedleGenerator struct {
	tok    tokenizer.Tokenizer
	filler []string
	cost   []int    // tokens of each filler sentence after a space
	words  []string // the needles' keys
}

// NewNeedleGenerator returns a generator drawing filler from sentences (one
// sentence each, blank ones ignored; nil: GenerateFiller's).
func NewNeedleGenerator(tok tokenizer.Tokenizer, sentences []string) (*NeedleGenerator, error) {
	if tok == nil {
		return nil, fmt.Errorf("eval: needle prompts need a tokenizer")
	}
	if sentences == nil {
		sentences = GenerateFiller(2000, 1)
	}
	g := &NeedleGenerator{tok: tok, words: strings.Fields(needleWords)}
	for _, s := range sentences {
		if s = strings.TrimSpace(s); s != "" {
			g.filler = append(g.filler, s)
			g.cost = append(g.cost, len(tok.Encode(" "+s, tokenizer.EncodeOptions{})))
		}
	}
	if len(g.filler) == 0 {
		return nil, fmt.Errorf("eval: no filler sentences")
	}
	return g, nil
}

// Make builds a prompt of at least tokens tokens (BOS, filler, needle and
// question; the filler is whole sentences, so a few tokens more) with the
// needle after the share depth of the filler sentences, its key and value
// and the filler drawn from rng.
func (g *NeedleGenerator) Make(rng *rand.Rand, tokens int, depth float64) (Needle, error) {
	if !(depth >= 0 && depth <= 1) {
		return Needle{}, fmt.Errorf("eval: needle depth %v outside [0, 1]", depth)
	}
	n := Needle{Depth: depth}
	n.Word, n.Number = g.drawFact(rng)
	needle, question := NeedleSentence(n.Word, n.Number), NeedleQuestion(n.Word)
	opts := tokenizer.EncodeOptions{}
	fixed := 1 + len(g.tok.Encode(" "+needle, opts)) + len(g.tok.Encode(" "+question, opts))
	filler := g.drawFiller(rng, fixed, tokens)
	at := func(f []string) int { return int(depth*float64(len(f)) + 0.5) }
	_, n.Tokens = g.lengthen(rng, filler, tokens, func(f []string) string {
		n.Text, n.At = joinNeedle(f, needle, question, at(f))
		return n.Text
	})
	return n, nil
}

// lengthen adds filler sentences drawn from rng until the text build makes
// of them encodes (BOS first) to at least tokens tokens: sentences
// tokenized alone cost a little more than inside the text. It returns the
// filler and the text's tokens.
func (g *NeedleGenerator) lengthen(rng *rand.Rand, filler []string, tokens int, build func([]string) string) ([]string, []int32) {
	for {
		ids := g.tok.Encode(build(filler), tokenizer.EncodeOptions{AddBOS: true})
		if len(ids) >= tokens {
			return filler, ids
		}
		filler = append(filler, g.filler[rng.IntN(len(g.filler))])
	}
}

// drawFact draws a needle's key and value: a word, and a number of 3 to 7
// digits.
func (g *NeedleGenerator) drawFact(rng *rand.Rand) (word, number string) {
	word = g.words[rng.IntN(len(g.words))]
	digits := 3 + rng.IntN(5)
	number = strconv.Itoa(1 + rng.IntN(9))
	for range digits - 1 {
		number += strconv.Itoa(rng.IntN(10))
	}
	return word, number
}

// drawFiller draws filler sentences until have plus their tokens reach
// tokens.
func (g *NeedleGenerator) drawFiller(rng *rand.Rand, have, tokens int) []string {
	var filler []string
	for have < tokens {
		i := rng.IntN(len(g.filler))
		filler = append(filler, g.filler[i])
		have += g.cost[i]
	}
	return filler
}

// joinNeedle joins the filler sentences with spaces, the needle before
// sentence at (after the last when at is len(filler)), and ends with the
// question. It returns the text and the needle's byte offset.
func joinNeedle(filler []string, needle, question string, at int) (string, int) {
	var b strings.Builder
	off := 0
	for i, s := range filler {
		if i == at {
			off = b.Len()
			b.WriteString(needle + " ")
		}
		b.WriteString(s + " ")
	}
	if at >= len(filler) {
		off = b.Len()
		b.WriteString(needle + " ")
	}
	b.WriteString(question)
	return b.String(), off
}

// Retrieved reports whether answer, the model's continuation of the
// prompt, retrieves number: its first run of digits is number.
func Retrieved(answer, number string) bool {
	i := strings.IndexFunc(answer, isDigit)
	if i < 0 {
		return false
	}
	j := strings.IndexFunc(answer[i:], func(r rune) bool { return !isDigit(r) })
	if j < 0 {
		j = len(answer) - i
	}
	return answer[i:i+j] == number
}

// isDigit reports whether r is an ASCII digit.
func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// needleWords are the needles' keys: lower-case English words of 4 to 10
// letters.
const needleWords = `
	apple river candle garden silver marble harbor lantern meadow pepper
	window forest castle bridge thunder orange pillow mirror rocket violin
	basket butter cactus dragon falcon ginger helmet island jacket kettle
	lemon magnet needle oyster parrot quartz rabbit saddle tiger umbrella
	valley walnut yogurt zipper anchor blanket camera dolphin engine feather
	glacier hammer iceberg jungle kitten ladder monkey nectar orchid pencil
	pumpkin quiver ribbon sunset tractor unicorn velvet wizard compass
	elephant fountain horizon journey kingdom library mountain notebook
	octopus painter quarry rainbow scarlet teapot vessel whistle crystal
	biscuit chimney diamond emerald festival gravity harvest
`
