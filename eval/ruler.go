package eval

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"sieve/tokenizer"
)

// RULER-style tasks, by the names --tasks takes.
const (
	RulerSingle    = "niah_single"   // one needle; retrieve its number
	RulerMultiKey  = "niah_multikey" // several needles; retrieve one key's number
	RulerVariables = "vt"            // variable tracking: every name bound to a value
	RulerWords     = "cwe"           // the ten most common words of a list
)

// RulerTasks lists the tasks in their usual order.
var RulerTasks = []string{RulerSingle, RulerMultiKey, RulerVariables, RulerWords}

// Shapes of the RULER tasks.
const (
	RulerKeys        = 4  // needles of niah_multikey by default
	RulerHops        = 4  // hops of the variable chain: RulerHops+1 names
	RulerCommonWords = 10 // words asked for by cwe
)

// RulerItem is one generated RULER prompt: a context, the question that
// follows it, and the strings a right answer contains.
type RulerItem struct {
	Task     string
	Context  string
	Question string
	// Refs are the strings scored by MatchAll.
	Refs []string
	// MaxTokens is the answer length.
	MaxTokens int
}

// RulerGenerator makes RULER prompts of about a given length from filler
// sentences (nil: GenerateFiller's).
type RulerGenerator struct {
	// Keys is the number of needles of niah_multikey (0: RulerKeys).
	Keys int
	tok  tokenizer.Tokenizer
	hay  *NeedleGenerator // its filler and the token cost of each sentence
}

// NewRulerGenerator returns a generator over the filler sentences.
func NewRulerGenerator(tok tokenizer.Tokenizer, filler []string) (*RulerGenerator, error) {
	g, err := NewNeedleGenerator(tok, filler)
	if err != nil {
		return nil, err
	}
	return &RulerGenerator{tok: tok, hay: g}, nil
}

// Make draws one prompt of task with a context and question of about
// tokens tokens.
func (g *RulerGenerator) Make(rng *rand.Rand, task string, tokens int) (RulerItem, error) {
	switch task {
	case RulerSingle, RulerMultiKey:
		keys := 1
		if task == RulerMultiKey {
			keys = RulerKeys
			if g.Keys > 0 {
				keys = min(g.Keys, len(g.hay.words))
			}
		}
		return g.needles(rng, task, tokens, keys), nil
	case RulerVariables:
		return g.variables(rng, tokens), nil
	case RulerWords:
		return g.commonWords(rng, tokens), nil
	}
	return RulerItem{}, fmt.Errorf("eval: unknown RULER task %q (want %s)", task, strings.Join(RulerTasks, ", "))
}

// cost is the token count of s after a space.
func (g *RulerGenerator) cost(s string) int {
	return len(g.tok.Encode(" "+s, tokenizer.EncodeOptions{}))
}

// haystack draws filler sentences worth about tokens tokens.
func (g *RulerGenerator) haystack(rng *rand.Rand, tokens int) []string {
	var out []string
	for have := 0; have < tokens; {
		i := rng.IntN(len(g.hay.filler))
		out = append(out, g.hay.filler[i])
		have += g.hay.cost[i]
	}
	return out
}

// plant inserts the facts into the sentences, fact i before sentence
// at[i] (after the last for len(sentences)), and joins them with spaces.
func plant(sentences, facts []string, at []int) string {
	var b []string
	for i := 0; i <= len(sentences); i++ {
		for f, a := range at {
			if a == i {
				b = append(b, facts[f])
			}
		}
		if i < len(sentences) {
			b = append(b, sentences[i])
		}
	}
	return strings.Join(b, " ")
}

// number draws a needle value of 3 to 7 digits.
func number(rng *rand.Rand) string {
	s := strconv.Itoa(1 + rng.IntN(9))
	for range 2 + rng.IntN(5) {
		s += strconv.Itoa(rng.IntN(10))
	}
	return s
}

// needles is niah_single and niah_multikey: keys needles with distinct
// words and numbers, each at a uniform random depth, the question asking
// for one.
func (g *RulerGenerator) needles(rng *rand.Rand, task string, tokens, keys int) RulerItem {
	words := slices.Clone(g.hay.words)
	rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	facts := make([]string, keys)
	nums := make([]string, keys)
	fixed := 0
	for i := range keys {
		nums[i] = number(rng)
		facts[i] = NeedleSentence(words[i], nums[i])
		fixed += g.cost(facts[i])
	}
	ask := rng.IntN(keys)
	question := " " + NeedleQuestion(words[ask])
	hay := g.haystack(rng, tokens-1-fixed-g.cost(question))
	at := make([]int, keys)
	for i := range at {
		at[i] = rng.IntN(len(hay) + 1)
	}
	return RulerItem{Task: task, Context: plant(hay, facts, at), Question: question, Refs: []string{nums[ask]}, MaxTokens: DefaultAnswerTokens}
}

// variables is vt: a chain "VAR A = N. VAR B = VAR A. ..." of RulerHops
// hops spread in order through the filler; the answer names every
// variable bound to N.
func (g *RulerGenerator) variables(rng *rand.Rand, tokens int) RulerItem {
	names := map[string]bool{}
	var vars []string
	for len(vars) < RulerHops+1 {
		var b strings.Builder
		for range 5 {
			b.WriteByte(byte('A' + rng.IntN(26)))
		}
		if v := b.String(); !names[v] {
			names[v] = true
			vars = append(vars, v)
		}
	}
	value := number(rng)
	facts := []string{fmt.Sprintf("VAR %s = %s.", vars[0], value)}
	for i := 1; i < len(vars); i++ {
		facts = append(facts, fmt.Sprintf("VAR %s = VAR %s.", vars[i], vars[i-1]))
	}
	fixed := 0
	for _, f := range facts {
		fixed += g.cost(f)
	}
	question := fmt.Sprintf(" Find all variables that are assigned the value %s in the text above. Answer: the variables assigned the value %s are", value, value)
	hay := g.haystack(rng, tokens-1-fixed-g.cost(question))
	at := make([]int, len(facts))
	for i := range at {
		at[i] = rng.IntN(len(hay) + 1)
	}
	slices.Sort(at) // the chain in order
	return RulerItem{Task: RulerVariables, Context: plant(hay, facts, at), Question: question, Refs: vars, MaxTokens: 8 * len(vars)}
}

// commonWords is cwe: a numbered list of words in which RulerCommonWords
// words each appear more often than any other; the answer names them.
func (g *RulerGenerator) commonWords(rng *rand.Rand, tokens int) RulerItem {
	pool := slices.Clone(g.hay.words)
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	common, rare := pool[:RulerCommonWords], pool[RulerCommonWords:]
	question := fmt.Sprintf(" Question: What are the %d most common words in the list above? Answer: the %d most common words in the list are", RulerCommonWords, RulerCommonWords)
	perEntry := g.cost("99. " + common[0])
	entries := max(2*RulerCommonWords, (tokens-1-g.cost(question))/max(1, perEntry))
	// Half the list is the common words, the rest rare words, each rare
	// word at most rareTimes times and every common one more often.
	rareTimes := max(1, (entries/2+len(rare)-1)/len(rare))
	commonTimes := max(rareTimes+2, entries/2/RulerCommonWords)
	var list []string
	for _, w := range common {
		for range commonTimes {
			list = append(list, w)
		}
	}
	for i := 0; len(list) < entries && i/len(rare) < rareTimes; i++ {
		list = append(list, rare[i%len(rare)])
	}
	rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	var b strings.Builder
	for i, w := range list {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d. %s", i+1, w)
	}
	return RulerItem{Task: RulerWords, Context: b.String(), Question: question, Refs: slices.Clone(common), MaxTokens: 6 * RulerCommonWords}
}

// Item is the task item that scores the prompt by MatchAll.
func (it RulerItem) Item() TaskItem {
	refs := it.Refs
	return TaskItem{Task: it.Task, Context: it.Context, Question: it.Question, MaxTokens: it.MaxTokens,
		Score: func(answer string) float64 { return MatchAll(answer, refs) }}
}
