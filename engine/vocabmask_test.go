package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
)

// shortTok is a pieceTok that, like the real tokenizers, decodes an id
// beyond its vocabulary to nothing.
type shortTok struct{ pieceTok }

func (s shortTok) Piece(prev, id int32) []byte {
	if int(id) >= len(s.pieces) {
		return nil
	}
	return s.pieceTok.Piece(prev, id)
}

// TestTokenizerSmallerThanEmbedding is the recipe: a 300-token
// vocabulary with a 512-row embedding loaded without a word, and about 65%
// of the sampled tokens then decoded to "". The engine now warns at start
// (TestDecodableVocab) and never samples an id the tokenizer cannot
// decode, greedy or not, and no such id appears among the top logprobs.
func TestTokenizerSmallerThanEmbedding(t *testing.T) {
	c := tinyConfig
	c.VocabSize = 512
	m := tinyModel(t, c, 3)
	const decodable = 300
	e := newEngine(t, m, shortTok{pieceTok{letters(decodable)}}, Config{})
	if e.decodable != decodable {
		t.Fatalf("engine masks from id %d, want %d", e.decodable, decodable)
	}
	sampled := 0
	for seed := range uint64(6) {
		p := SamplingParams{Temperature: 2, Seed: seed}
		if seed == 0 {
			p = SamplingParams{} // greedy
		}
		r := collect(t, submit(t, e, context.Background(), Request{Prompt: []int32{1, 7, 9}, MaxTokens: 100, Params: p, Logprobs: true, TopLogprobs: 5}))
		if r.last.Finish == FinishError {
			t.Fatalf("seed %d: generation failed: %v", seed, r.last.Err)
		}
		for i, tok := range r.tokens {
			if tok >= decodable {
				t.Fatalf("seed %d: token %d is id %d, beyond the tokenizer's %d", seed, i, tok, decodable)
			}
		}
		for _, lp := range r.logprobs {
			for _, alt := range lp.Top {
				if alt.Token >= decodable || math.IsInf(float64(alt.Logprob), 0) {
					t.Fatalf("seed %d: top logprob %+v beyond the tokenizer", seed, alt)
				}
			}
		}
		sampled += len(r.tokens)
	}
	if sampled < 500 {
		t.Fatalf("only %d tokens sampled", sampled)
	}
}

// TestDecodableVocab: a tokenizer smaller than the embedding is a
// warning naming both sizes, and sets where the mask starts.
func TestDecodableVocab(t *testing.T) {
	tests := []struct {
		model, tok, want int
		warn             bool
	}{
		{512, 300, 300, true},
		{512, 512, 0, false},
		{128, 512, 0, false}, // a tokenizer larger than the model: the engine's prompt checks cover it
	}
	for _, tt := range tests {
		var logs bytes.Buffer
		got := decodableVocab(tt.model, tt.tok, slog.New(slog.NewTextHandler(&logs, nil)))
		if got != tt.want {
			t.Errorf("decodableVocab(%d, %d) = %d, want %d", tt.model, tt.tok, got, tt.want)
		}
		l := logs.String()
		warned := strings.Contains(l, "level=WARN") && strings.Contains(l, fmt.Sprintf("tokenizer_vocab=%d model_vocab=%d", tt.tok, tt.model))
		if warned != tt.warn {
			t.Errorf("decodableVocab(%d, %d) logged %q, want a warning: %v", tt.model, tt.tok, l, tt.warn)
		}
	}
}

// TestMaskUndecodable checks the mask on its own.
func TestMaskUndecodable(t *testing.T) {
	tests := []struct {
		decodable int
		masked    int // leading ids left alone
	}{
		{0, 5}, {5, 5}, {3, 3}, {8, 5},
	}
	for _, tt := range tests {
		logits := []float32{1, 2, 3, 4, 5}
		maskUndecodable(logits, tt.decodable)
		for i, v := range logits {
			if inf := math.IsInf(float64(v), -1); inf != (i >= tt.masked) {
				t.Errorf("decodable %d: logit %d = %v", tt.decodable, i, v)
			}
		}
	}
}
