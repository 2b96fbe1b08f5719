package eval

import (
	"context"
	"math"
	"slices"
	"testing"

	"sieve/engine"
)

func TestSlidingWindows(t *testing.T) {
	tokens := []int32{1, 10, 11, 12, 13, 14, 15, 16, 17, 18} // BOS 1, then 9 tokens
	tests := []struct {
		name     string
		w        WindowSpec
		wantSeqs [][]int32
		wantFrom []int
	}{
		// Hugging Face style: windows of 4 every 2 tokens; after the first,
		// each scores its last 2 positions.
		{"stride", WindowSpec{Ctx: 4, Stride: 2}, [][]int32{{1, 10, 11, 12}, {1, 12, 13, 14}, {1, 14, 15, 16}, {1, 16, 17, 18}}, []int{1, 2, 2, 2}},
		// llama.cpp style: whole chunks of 4, each scoring after position 2;
		// the tail (16, 17, 18) does not fill a chunk.
		{"chunks", WindowSpec{Ctx: 4, Stride: 4, ScoreAfter: 2}, [][]int32{{1, 10, 11, 12}, {1, 14, 15, 16}}, []int{3, 3}},
		{"capped", WindowSpec{Ctx: 4, Stride: 4, MaxWindows: 1}, [][]int32{{1, 10, 11, 12}}, []int{1}},
		// A stride past the window leaves gaps; every window scores all.
		{"gaps", WindowSpec{Ctx: 3, Stride: 5}, [][]int32{{1, 10, 11}, {1, 15, 16}}, []int{1, 1}},
		// A text shorter than the window is one window.
		{"short", WindowSpec{Ctx: 64}, [][]int32{tokens}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seqs, from, err := SlidingWindows(tokens, 1, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(seqs, tt.wantSeqs, slices.Equal) || !slices.Equal(from, tt.wantFrom) {
				t.Errorf("got %v from %v, want %v from %v", seqs, from, tt.wantSeqs, tt.wantFrom)
			}
		})
	}
	for _, w := range []WindowSpec{{Ctx: 1}, {Ctx: 4, Stride: -1}, {Ctx: 4, ScoreAfter: 3}} {
		if _, _, err := SlidingWindows(tokens, 1, w); err == nil {
			t.Errorf("%+v: no error", w)
		}
	}
	if _, _, err := SlidingWindows(tokens, -1, WindowSpec{Ctx: 4}); err == nil {
		t.Error("no BOS: no error")
	}
}

// plantedSource returns the same logits at every position, per policy.
type plantedSource map[string][]float32

func (p plantedSource) forced(_ context.Context, seq []int32, policy string, _ float64, step func(int, []float32)) (engine.Usage, error) {
	for i := 1; i < len(seq); i++ {
		step(i, p[policy])
	}
	return engine.Usage{}, nil
}

func logits(probs ...float64) []float32 {
	out := make([]float32, len(probs))
	for i, p := range probs {
		out[i] = float32(math.Log(p)) + 3 // any shift: softmax removes it
	}
	return out
}

// TestPlantedPerplexity scores a sequence against known distributions:
// full gives tokens 0, 1, 2 the probabilities 1/2, 1/4, 1/4 everywhere,
// the policy 1/4, 1/2, 1/4.
func TestPlantedPerplexity(t *testing.T) {
	src := plantedSource{"full": logits(0.5, 0.25, 0.25), "h2o": logits(0.25, 0.5, 0.25)}
	seq := []int32{0, 0, 1, 2, 0}
	ctx := context.Background()
	ref, err := newReference(ctx, src, seq)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from              int
		ppl, pplFull, kl  float64
		positions, agrees int
	}{
		// Tokens 0, 1, 2, 0: full 1/2·1/4·1/4·1/2, so ppl (1/64)^(−1/4) =
		// 2^1.5; the policy 1/4·1/2·1/4·1/4, ppl (1/128)^(−1/4) = 2^1.75.
		// KL per position: 1/2·ln 2 + 1/4·ln(1/2) = ln 2 / 4.
		{1, math.Pow(2, 1.75), math.Pow(2, 1.5), math.Ln2 / 4, 4, 0},
		// From position 2: tokens 1, 2, 0: full 1/4·1/4·1/2, ppl 2^(5/3);
		// the policy 1/2·1/4·1/4, ppl 2^(5/3).
		{2, math.Pow(2, 5.0/3), math.Pow(2, 5.0/3), math.Ln2 / 4, 3, 0},
	}
	for _, tt := range tests {
		st, err := score(ctx, src, ref, "h2o", 0.5, tt.from)
		if err != nil {
			t.Fatal(err)
		}
		r := st.result("h2o", 0.5)
		if r.Positions != tt.positions || math.Abs(r.PPL-tt.ppl) > 1e-5 || math.Abs(r.PPLFull-tt.pplFull) > 1e-5 ||
			math.Abs(r.KL-tt.kl) > 1e-6 || r.Top1Agreement != float64(tt.agrees)/float64(tt.positions) {
			t.Errorf("from %d: %+v, want ppl %.5f, full %.5f, KL %.6f over %d positions", tt.from, r, tt.ppl, tt.pplFull, tt.kl, tt.positions)
		}
	}
}

func TestPPLSweep(t *testing.T) {
	results := []Result{
		{Policy: "full", Budget: 0.25, PPL: 4, PPLFull: 4, BudgetTokens: 64, Top1Agreement: 1},
		{Policy: "h2o", Budget: 0.25, PPL: 5, PPLFull: 4, BudgetTokens: 16, KL: 0.1, Top1Agreement: 0.9},
		{Policy: "full", Budget: 0.5, PPL: 4, PPLFull: 4, BudgetTokens: 64, Top1Agreement: 1},
		{Policy: "h2o", Budget: 0.5, PPL: 4.2, PPLFull: 4, BudgetTokens: 32, KL: 0.01, Top1Agreement: 0.95},
	}
	s := PPLSweep("ppl", results)
	want := []SweepRow{
		{Policy: "full", Budget: 0, Score: 4, Full: 4, Loss: 0, Values: []float64{64, 0, 1}},
		{Policy: "h2o", Budget: 0.25, Score: 5, Full: 4, Loss: 0.25, Values: []float64{16, 0.1, 0.9}},
		{Policy: "h2o", Budget: 0.5, Score: 4.2, Full: 4, Loss: 0.05, Values: []float64{32, 0.01, 0.95}},
	}
	if len(s.Rows) != len(want) {
		t.Fatalf("rows %+v, want %+v", s.Rows, want)
	}
	for i, w := range want {
		g := s.Rows[i]
		if g.Policy != w.Policy || g.Budget != w.Budget || g.Score != w.Score || math.Abs(g.Loss-w.Loss) > 1e-12 || !slices.Equal(g.Values, w.Values) {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
}
