package server

import (
	"unicode/utf8"

	"sieve/engine"
)

// completionLP converts the engine's logprobs into the completions shape,
// keeping the running text offset and, for whole responses, every token's
// logprobs.
type completionLP struct {
	enabled bool
	offset  int // characters of text before the next token
	whole   completionLogprobs
}

// newCompletionLP returns a converter; offset is the length of text that
// precedes the first token (the echoed prompt).
func newCompletionLP(enabled bool, offset int) *completionLP {
	return &completionLP{enabled: enabled, offset: offset, whole: emptyCompletionLogprobs()}
}

// chunk converts one event's logprobs, advancing the text offset; it
// returns nil when logprobs were not requested.
func (c *completionLP) chunk(lps []engine.TokenLogprobs) *completionLogprobs {
	if !c.enabled {
		return nil
	}
	out := emptyCompletionLogprobs()
	for _, lp := range lps {
		top := make(map[string]float32, len(lp.Top)+1)
		for _, t := range lp.Top {
			top[t.Text] = t.Logprob
		}
		top[lp.Text] = lp.Logprob
		out.Tokens = append(out.Tokens, lp.Text)
		out.TokenLogprobs = append(out.TokenLogprobs, lp.Logprob)
		out.TopLogprobs = append(out.TopLogprobs, top)
		out.TextOffset = append(out.TextOffset, c.offset)
		c.offset += utf8.RuneCountInString(lp.Text)
	}
	return &out
}

// emptyCompletionLogprobs has empty lists, which encode as [] not null.
func emptyCompletionLogprobs() completionLogprobs {
	return completionLogprobs{Tokens: []string{}, TokenLogprobs: []float32{}, TopLogprobs: []map[string]float32{}, TextOffset: []int{}}
}

// add converts one event's logprobs into the whole.
func (c *completionLP) add(lps []engine.TokenLogprobs) {
	out := c.chunk(lps)
	if out == nil {
		return
	}
	c.whole.Tokens = append(c.whole.Tokens, out.Tokens...)
	c.whole.TokenLogprobs = append(c.whole.TokenLogprobs, out.TokenLogprobs...)
	c.whole.TopLogprobs = append(c.whole.TopLogprobs, out.TopLogprobs...)
	c.whole.TextOffset = append(c.whole.TextOffset, out.TextOffset...)
}

// all returns every token's logprobs, or nil when not requested.
func (c *completionLP) all() *completionLogprobs {
	if !c.enabled {
		return nil
	}
	w := c.whole
	return &w
}

// chatLP converts the engine's logprobs into the chat shape.
func chatLP(lps []engine.TokenLogprobs) []chatTokenLogprob {
	out := make([]chatTokenLogprob, 0, len(lps))
	for _, lp := range lps {
		top := make([]chatTopLogprob, 0, len(lp.Top))
		for _, t := range lp.Top {
			top = append(top, chatTopLogprob{Token: t.Text, Logprob: t.Logprob, Bytes: byteList(t.Text)})
		}
		out = append(out, chatTokenLogprob{Token: lp.Text, Logprob: lp.Logprob, Bytes: byteList(lp.Text), TopLogprobs: top})
	}
	return out
}

// byteList spells s as the list of its bytes, as OpenAI does.
func byteList(s string) []int {
	b := make([]int, len(s))
	for i := range len(s) {
		b[i] = int(s[i])
	}
	return b
}
