package serve

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Prompt is one benchmark request's input and output length.
type Prompt struct {
	Text      string    // the prompt text (chat requests, or prompts from a file)
	Messages  []Message // the chat messages, when a chat request has more than one user message
	Tokens    []int32   // random prompt token ids (completions), used instead of Text
	InputLen  int       // tokens (random prompts) or words (chat) asked for; 0 from a file
	OutputLen int       // max_tokens, with EOS ignored
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Range is a length: fixed (Min == Max) or drawn uniformly from [Min, Max].
type Range struct{ Min, Max int }

// ParseRange reads "128" or "64:256".
func ParseRange(s string) (Range, error) {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		hi = lo
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a < 1 || b < a {
		return Range{}, fmt.Errorf("length %q: want N or MIN:MAX with 1 <= MIN <= MAX", s)
	}
	return Range{a, b}, nil
}

// String formats r as ParseRange reads it.
func (r Range) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return fmt.Sprintf("%d:%d", r.Min, r.Max)
}

func (r Range) draw(rng *rand.Rand) int { return r.Min + rng.IntN(r.Max-r.Min+1) }

// WorkloadConfig describes the prompts of a benchmark.
type WorkloadConfig struct {
	NumPrompts int
	InputLen   Range
	OutputLen  Range
	// Vocab bounds random prompt token ids to [3, Vocab), past the usual
	// unknown, BOS and EOS ids; it must not exceed the model's vocabulary.
	Vocab int
	// Words makes random prompts text of InputLen words (for chat, which
	// takes no token ids) instead of token ids.
	Words bool
	// PrefixLen is the length of a common prefix drawn once and put before
	// every random prompt: token ids, or words, which chat sends as a
	// system message. It is what a shared system prompt looks like to a
	// prefix cache.
	PrefixLen int
	// File, when set, is a JSONL file of {"prompt": "...", "output_len": N}
	// lines (output_len optional: OutputLen then applies), used in order
	// and cycled to NumPrompts.
	File string
	Seed uint64
}

// words are the filler of random text prompts: short common words, about
// one token each in Llama tokenizers.
var words = strings.Fields("the a and to of in it was he she they day big little cat dog sun tree house ran saw said happy went home play ball friend mom dad red blue time one")

// Workload builds the prompts cfg describes, the same for a given seed.
func Workload(cfg WorkloadConfig) ([]Prompt, error) {
	if cfg.NumPrompts < 1 {
		return nil, fmt.Errorf("serve bench: --num-prompts must be at least 1")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 11))
	if cfg.File != "" {
		return fileWorkload(cfg, rng)
	}
	if !cfg.Words && cfg.Vocab < 4 {
		return nil, fmt.Errorf("serve bench: vocabulary %d is too small for random prompts", cfg.Vocab)
	}
	if cfg.PrefixLen < 0 {
		return nil, fmt.Errorf("serve bench: prefix length %d is negative", cfg.PrefixLen)
	}
	prefixRNG := rand.New(rand.NewPCG(cfg.Seed, 13))
	prefixText, prefixTokens := randomWords(prefixRNG, cfg.PrefixLen), randomTokens(prefixRNG, cfg.PrefixLen, cfg.Vocab)
	ps := make([]Prompt, cfg.NumPrompts)
	for i := range ps {
		n := cfg.InputLen.draw(rng)
		p := Prompt{InputLen: cfg.PrefixLen + n, OutputLen: cfg.OutputLen.draw(rng)}
		switch {
		case cfg.Words && cfg.PrefixLen > 0:
			p.Text = randomWords(rng, n)
			p.Messages = []Message{{Role: "system", Content: prefixText}, {Role: "user", Content: p.Text}}
			p.Text = prefixText + " " + p.Text
		case cfg.Words:
			p.Text = randomWords(rng, n)
		default:
			p.Tokens = append(slices.Clip(prefixTokens), randomTokens(rng, n, cfg.Vocab)...)
		}
		ps[i] = p
	}
	return ps, nil
}

// randomWords is n words drawn from the filler list, joined by spaces.
func randomWords(rng *rand.Rand, n int) string {
	w := make([]string, n)
	for j := range w {
		w[j] = words[rng.IntN(len(words))]
	}
	return strings.Join(w, " ")
}

// randomTokens is n token ids drawn from [3, vocab); nil when vocab is
// too small to draw from.
func randomTokens(rng *rand.Rand, n, vocab int) []int32 {
	if vocab < 4 {
		return nil
	}
	ids := make([]int32, n)
	for j := range ids {
		ids[j] = int32(3 + rng.IntN(vocab-3))
	}
	return ids
}

// fileWorkload reads cfg.File's prompts.
func fileWorkload(cfg WorkloadConfig, rng *rand.Rand) ([]Prompt, error) {
	f, err := os.Open(cfg.File)
	if err != nil {
		return nil, fmt.Errorf("serve bench: %w", err)
	}
	defer f.Close()
	var file []Prompt
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec struct {
			Prompt    *string `json:"prompt"`
			OutputLen int     `json:"output_len"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Prompt == nil {
			return nil, fmt.Errorf("serve bench: %s:%d: want {\"prompt\": \"...\", \"output_len\": N} (%v)", cfg.File, line, err)
		}
		if rec.OutputLen < 0 {
			return nil, fmt.Errorf("serve bench: %s:%d: output_len %d is negative", cfg.File, line, rec.OutputLen)
		}
		file = append(file, Prompt{Text: *rec.Prompt, OutputLen: rec.OutputLen})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("serve bench: read %s: %w", cfg.File, err)
	}
	if len(file) == 0 {
		return nil, fmt.Errorf("serve bench: %s holds no prompts", cfg.File)
	}
	ps := make([]Prompt, cfg.NumPrompts)
	for i := range ps {
		ps[i] = file[i%len(file)]
		if ps[i].OutputLen == 0 {
			ps[i].OutputLen = cfg.OutputLen.draw(rng)
		}
	}
	return ps, nil
}
