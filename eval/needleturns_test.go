package eval

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model/load"
	"sieve/tokenizer"
)

func TestMakeTurns(t *testing.T) {
	tok, err := tokenizer.Load(testmodels.Path(t, "needle-1k/tok.bin"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewNeedleGenerator(tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		first, later, turns int
		depth               float64
	}{{200, 80, 4, 0.5}, {120, 40, 1, 0}, {300, 150, 3, 1}} {
		c, err := g.MakeTurns(rand.New(rand.NewPCG(3, 4)), tc.first, tc.later, tc.turns, tc.depth)
		if err != nil {
			t.Fatal(err)
		}
		needle := NeedleSentence(c.Word, c.Number)
		if !strings.Contains(c.Context, needle) || strings.Contains(c.Context, "What is") || c.Distractor == c.Word || c.Distractor == "" {
			t.Fatalf("%+v: context %q", tc, c.Context)
		}
		if n := len(tok.Encode(c.Context+" "+NeedleQuestion(c.Distractor), tokenizer.EncodeOptions{AddBOS: true})); n < tc.first {
			t.Errorf("%+v: first turn of %d tokens", tc, n)
		}
		if at := strings.Index(c.Context, needle); tc.depth == 1 && at+len(needle) != len(c.Context) {
			t.Errorf("depth 1: needle at %d of %d", at, len(c.Context))
		}
		if len(c.Filler) != tc.turns-1 {
			t.Fatalf("%+v: %d later turns", tc, len(c.Filler))
		}
		for _, f := range c.Filler {
			if strings.ContainsAny(f, "0123456789") || len(tok.Encode(" "+f, tokenizer.EncodeOptions{})) < tc.later*9/10 {
				t.Errorf("%+v: later turn %q", tc, f)
			}
		}
		again, _ := g.MakeTurns(rand.New(rand.NewPCG(3, 4)), tc.first, tc.later, tc.turns, tc.depth)
		if again.Context != c.Context || strings.Join(again.Filler, "|") != strings.Join(c.Filler, "|") {
			t.Errorf("%+v: the same seed drew another conversation", tc)
		}
	}
}

// TestMultiTurnNeedles runs short conversations through the engine: dense
// must retrieve the fact at every turn (otherwise the conversations, not a
// policy, lose it), and window, which keeps only the recent tokens, must
// lose it once later turns have pushed it out.
func TestMultiTurnNeedles(t *testing.T) {
	m, err := load.Open(testmodels.Path(t, "needle-1k/model.bin"), testmodels.Path(t, "needle-1k/tok.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := NeedleConfig{
		Lengths:    []int{150},
		Depths:     []float64{0.3, 0.7},
		Samples:    2,
		Seed:       5,
		Policies:   []string{"window", "h2o"},
		Budgets:    []float64{0.5},
		Threads:    2,
		Turns:      3,
		TurnTokens: 60,
	}
	results, err := MultiTurnNeedles(context.Background(), m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || results[0].Policy != "full" || results[1].Policy != "window" || results[2].Budget != 0.5 {
		t.Fatalf("results %+v", results)
	}
	for _, r := range results {
		if len(r.Cells) != 6 {
			t.Fatalf("%s: %d cells", r.Policy, len(r.Cells))
		}
		for i, c := range r.Cells {
			if c.Turn != i/2+1 || c.Depth != cfg.Depths[i%2] || c.Prompts != 2 || c.Length != 150 {
				t.Fatalf("%s cell %d: %+v", r.Policy, i, c)
			}
		}
	}
	full := results[0].ByTurn(3)
	for k, c := range full {
		t.Logf("turn %d: full %d/%d, window %d, h2o %d, ~%.0f tokens", k+1, c.Retrieved, c.Prompts,
			results[1].ByTurn(3)[k].Retrieved, results[2].ByTurn(3)[k].Retrieved, c.Tokens)
		if c.Retrieved < 3 {
			t.Errorf("turn %d: full retrieves %d of %d", k+1, c.Retrieved, c.Prompts)
		}
		if k > 0 && c.Tokens < full[k-1].Tokens+60 {
			t.Errorf("turn %d: ~%.0f tokens after turn %d's ~%.0f; the history did not grow by a turn", k+1, c.Tokens, k, full[k-1].Tokens)
		}
	}
	if w := results[1].ByTurn(3)[2]; w.Retrieved >= full[2].Retrieved {
		t.Errorf("window at 0.5 retrieves %d at turn 3, as many as full: the later turns do not push the fact out", w.Retrieved)
	}
	long := cfg
	long.Turns, long.TurnTokens = 12, 150
	if _, err := MultiTurnNeedles(context.Background(), m, long); err == nil || !strings.Contains(err.Error(), "context length") {
		t.Errorf("a conversation past the context: %v", err)
	}
}
