package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"sieve/engine"
	"sieve/model"
	"sieve/sparsity"
	"sieve/tokenizer"
)

// NeedleTurns is a multi-turn needle conversation as text: the first turn
// plants the fact and ends with a question about another word, later turns
// add filler.
type NeedleTurns struct {
	// Word and Number are the fact; Distractor is the word the first
	// turn's question asks about instead.
	Word, Number, Distractor string
	Depth                    float64
	// Context is the first turn's filler with the needle at Depth, before
	// its question.
	Context string
	// Filler holds the new text of turns 2, 3, ...
	Filler []string
}

// MakeTurns draws a conversation of turns turns: a first turn of about
// first tokens with the needle after the share depth of its filler, and
// turns-1 later turns of about later tokens of filler each.
func (g *NeedleGenerator) MakeTurns(rng *rand.Rand, first, later, turns int, depth float64) (NeedleTurns, error) {
	if !(depth >= 0 && depth <= 1) {
		return NeedleTurns{}, fmt.Errorf("eval: needle depth %v outside [0, 1]", depth)
	}
	c := NeedleTurns{Depth: depth}
	c.Word, c.Number = g.drawFact(rng)
	for c.Distractor == "" || c.Distractor == c.Word {
		c.Distractor = g.words[rng.IntN(len(g.words))]
	}
	needle := NeedleSentence(c.Word, c.Number)
	opts := tokenizer.EncodeOptions{}
	fixed := 1 + len(g.tok.Encode(" "+needle, opts)) + len(g.tok.Encode(" "+NeedleQuestion(c.Distractor), opts))
	at := func(f []string) int { return int(depth*float64(len(f)) + 0.5) }
	filler, _ := g.lengthen(rng, g.drawFiller(rng, fixed, first), first, func(f []string) string {
		text, _ := joinNeedle(f, needle, NeedleQuestion(c.Distractor), at(f))
		return text
	})
	text, _ := joinNeedle(filler, needle, "", at(filler))
	c.Context = strings.TrimSpace(text)
	for range turns - 1 {
		c.Filler = append(c.Filler, strings.Join(g.drawFiller(rng, 0, later), " "))
	}
	return c, nil
}

// conversationTokens are a conversation's pieces as token ids, the way
// each request extends the last one's tokens: the first turn's context
// (BOS first), each later turn's filler after a space, and the questions
// after a space.
type conversationTokens struct {
	context, question, distractor []int32
	filler                        [][]int32
}

// encodeTurns tokenizes c's pieces.
func encodeTurns(tok tokenizer.Tokenizer, c NeedleTurns) conversationTokens {
	opts := tokenizer.EncodeOptions{}
	t := conversationTokens{
		context:    tok.Encode(c.Context, tokenizer.EncodeOptions{AddBOS: true}),
		question:   tok.Encode(" "+NeedleQuestion(c.Word), opts),
		distractor: tok.Encode(" "+NeedleQuestion(c.Distractor), opts),
	}
	for _, f := range c.Filler {
		t.filler = append(t.filler, tok.Encode(" "+f, opts))
	}
	return t
}

// longest is the tokens of the last turn's request, the longest of the
// conversation, when every answer has n tokens.
func (t conversationTokens) longest(n int) int {
	if len(t.filler) == 0 {
		return len(t.context) + len(t.question)
	}
	// Turn 1 and its answer, every later turn's filler, the answers of
	// all but the last, and the question.
	total := len(t.context) + len(t.distractor) + n + (len(t.filler)-1)*n + len(t.question)
	for _, f := range t.filler {
		total += len(f)
	}
	return total
}

// reply is a conversation's answer to prompt: greedy, up to n tokens,
// ending at the first full stop (which it keeps) or end of sequence, as a
// chat answer ends; the tokens returned are all the request generated, so
// the prompt and the reply are the finished request's whole sequence.
func (r *runner) reply(ctx context.Context, prompt []int32, n int, policy string, budget float64) ([]int32, error) {
	req := engine.Request{Prompt: prompt, MaxTokens: n, Stop: []string{"."}, KVPolicy: policy, KVBudget: budget}
	var out []int32
	_, err := r.submit(ctx, req, func(ev engine.Event) { out = append(out, ev.Tokens...) })
	return out, err
}

// turnOutcome is one conversation's retrieval at each turn.
type turnOutcome struct {
	retrieved []bool
	tokens    []int // the prompt tokens of the request that asks at each turn
	leaked    bool  // the answer to the first turn's question gave the fact's number
}

// converse runs one conversation under a policy and budget. The main line
// is the conversation: turn 1 (context and the distractor question), then
// each later turn's filler, every request over the whole history with the
// answers the engine gave. At each turn a probe branches off it, the same
// request with the fact's question at the end, and its answer is scored.
func (r *runner) converse(ctx context.Context, tok tokenizer.Tokenizer, c NeedleTurns, t conversationTokens, answerTokens int, policy string, budget float64) (turnOutcome, error) {
	turns := len(t.filler) + 1
	out := turnOutcome{retrieved: make([]bool, turns), tokens: make([]int, turns)}
	var history []int32
	for k := range turns {
		var prompt []int32
		if k == 0 {
			prompt = t.context
		} else {
			prompt = append(history, t.filler[k-1]...)
		}
		probe := append(prompt[:len(prompt):len(prompt)], t.question...)
		answer, err := r.answer(ctx, probe, answerTokens, policy, budget)
		if err != nil {
			return out, err
		}
		out.retrieved[k], out.tokens[k] = Retrieved(tok.Decode(answer), c.Number), len(probe)
		if k == turns-1 {
			break
		}
		if k == 0 {
			prompt = append(prompt[:len(prompt):len(prompt)], t.distractor...)
		}
		answer, err = r.reply(ctx, prompt, answerTokens, policy, budget)
		if err != nil {
			return out, err
		}
		if k == 0 {
			out.leaked = Retrieved(tok.Decode(answer), c.Number)
		}
		history = append(prompt[:len(prompt):len(prompt)], answer...)
	}
	return out, nil
}

// MultiTurnNeedles measures needle retrieval across the turns of a
// conversation: Samples conversations per depth of Turns turns (the first
// of Lengths[0] tokens, each later one TurnTokens more), run through the
// engine under full and under every policy and budget, each turn a new
// request over the growing history. A result's cells are one per (turn,
// depth), turns outer: the conversations retrieved by a request at that
// turn asking for the fact. Results are in Needles' order, full first.
func MultiTurnNeedles(ctx context.Context, m *model.Model, cfg NeedleConfig) ([]NeedleResult, error) {
	if err := cfg.check(m); err != nil {
		return nil, err
	}
	if len(cfg.Lengths) != 1 || cfg.Turns < 1 || cfg.TurnTokens < 1 {
		return nil, fmt.Errorf("eval: a multi-turn needle run takes one first-turn length (got %d), at least 1 turn (%d) and turn tokens (%d)", len(cfg.Lengths), cfg.Turns, cfg.TurnTokens)
	}
	g, err := NewNeedleGenerator(m.Tokenizer, cfg.Filler)
	if err != nil {
		return nil, err
	}
	type sample struct {
		depth int
		c     NeedleTurns
		t     conversationTokens
	}
	var samples []sample
	for d, depth := range cfg.Depths {
		for s := range cfg.Samples {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(d*cfg.Samples+s)))
			c, err := g.MakeTurns(rng, cfg.Lengths[0], cfg.TurnTokens, cfg.Turns, depth)
			if err != nil {
				return nil, err
			}
			t := encodeTurns(m.Tokenizer, c)
			if n := t.longest(cfg.AnswerTokens) + cfg.AnswerTokens; n > m.Config.ContextLen {
				return nil, fmt.Errorf("eval: a conversation of %d turns reaches %d tokens, past the context length %d", cfg.Turns, n, m.Config.ContextLen)
			}
			samples = append(samples, sample{d, c, t})
		}
	}
	settings := needleSettings(cfg)
	r, err := newRunnerWith(m, m.Tokenizer, cfg.spec(), cfg.Threads, cfg.Parallel, m.Config.ContextLen, cfg.KV)
	if err != nil {
		return nil, err
	}
	outcomes := make([]turnOutcome, len(settings)*len(samples))
	err = parallel(ctx, len(outcomes), func(ctx context.Context, i int) error {
		st, sm := settings[i/len(samples)], samples[i%len(samples)]
		o, err := r.converse(ctx, m.Tokenizer, sm.c, sm.t, cfg.AnswerTokens, st.Policy, st.Budget)
		if err != nil {
			return fmt.Errorf("%s at budget %v: %w", st.Policy, st.Budget, err)
		}
		outcomes[i] = o
		return nil
	})
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	out := make([]NeedleResult, len(settings))
	for si, st := range settings {
		res := NeedleResult{Policy: st.Policy, Budget: st.Budget, Cells: make([]NeedleCell, cfg.Turns*len(cfg.Depths))}
		for i := range res.Cells {
			res.Cells[i] = NeedleCell{Length: cfg.Lengths[0], Turn: i/len(cfg.Depths) + 1, Depth: cfg.Depths[i%len(cfg.Depths)]}
		}
		for smi, sm := range samples {
			o := outcomes[si*len(samples)+smi]
			if o.leaked {
				res.DistractorLeaks++
			}
			for k := range cfg.Turns {
				c := &res.Cells[k*len(cfg.Depths)+sm.depth]
				c.Tokens = (c.Tokens*float64(c.Prompts) + float64(o.tokens[k])) / float64(c.Prompts+1)
				c.Prompts++
				if o.retrieved[k] {
					c.Retrieved++
				}
			}
		}
		out[si] = res
	}
	return out, nil
}

// needleSetting is one policy and budget a needle run compares.
type needleSetting struct {
	Policy string
	Budget float64
}

// needleSettings are full (budget 0) and then every other policy at every
// budget, budgets inner.
func needleSettings(cfg NeedleConfig) []needleSetting {
	out := []needleSetting{{string(sparsity.Full), 0}}
	for _, p := range cfg.Policies {
		if pp, _ := sparsity.ParsePolicy(p); pp == sparsity.Full {
			continue
		}
		for _, b := range cfg.Budgets {
			out = append(out, needleSetting{p, b})
		}
	}
	return out
}
