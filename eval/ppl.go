package eval

import (
	"fmt"

	"sieve/sparsity"
)

// WindowSpec says how SlidingWindows cuts a token stream.
type WindowSpec struct {
	// Ctx is the window length in tokens, BOS included.
	Ctx int
	// Stride is how far each window starts after the previous one (0:
	// Ctx/2). Each window scores only the tokens the previous one did not
	// reach, so a stride below Ctx gives every scored token at least
	// Ctx−Stride tokens of context (Hugging Face's sliding-window
	// perplexity).
	Stride int
	// ScoreAfter leaves the first ScoreAfter positions of every window
	// unscored, as context only. Stride = Ctx with ScoreAfter = Ctx/2 is
	// llama.cpp's llama-perplexity: whole chunks, the second half of each
	// scored.
	ScoreAfter int
	// MaxWindows caps the windows (0: all).
	MaxWindows int
}

// SlidingWindows cuts a token stream (BOS first) into the windows of a
// sliding-window perplexity and returns them with the first scored
// position of each (DivergenceConfig.Texts and From). Window k covers
// tokens[k·Stride : k·Stride+Ctx] with its first token replaced by bos;
// it scores the positions past ScoreAfter that the window before did not
// reach (the first window: all past ScoreAfter). Only whole windows are
// made: a tail shorter than a window is not scored, unless the stream is
// shorter than one window, which is then the one window.
func SlidingWindows(tokens []int32, bos int32, w WindowSpec) ([][]int32, []int, error) {
	if w.Stride == 0 {
		w.Stride = w.Ctx / 2
	}
	switch {
	case w.Ctx < 2 || w.Stride < 1 || w.ScoreAfter < 0 || w.MaxWindows < 0:
		return nil, nil, fmt.Errorf("eval: windows of %d tokens, stride %d, scored after %d, at most %d: want a length of at least 2 and a positive stride", w.Ctx, w.Stride, w.ScoreAfter, w.MaxWindows)
	case bos < 0:
		return nil, nil, fmt.Errorf("eval: the tokenizer has no BOS token")
	case len(tokens) < 2:
		return nil, nil, fmt.Errorf("eval: a text of %d tokens has nothing to score", len(tokens))
	}
	n := min(w.Ctx, len(tokens))
	if w.ScoreAfter+1 >= n {
		return nil, nil, fmt.Errorf("eval: windows of %d tokens scored after position %d score nothing", n, w.ScoreAfter)
	}
	var seqs [][]int32
	var from []int
	for start := 0; start+n <= len(tokens); start += w.Stride {
		if w.MaxWindows > 0 && len(seqs) == w.MaxWindows {
			break
		}
		seq := append([]int32{bos}, tokens[start+1:start+n]...)
		f := w.ScoreAfter + 1
		if len(seqs) > 0 {
			f = max(f, n-w.Stride)
		}
		seqs = append(seqs, seq)
		from = append(from, f)
	}
	return seqs, from, nil
}

// PPLSweep is the perplexity table of divergence results: one row per
// policy and budget (full once), with the budget in tokens, the KL
// divergence from full and the top-1 agreement.
func PPLSweep(eval string, results []Result) Sweep {
	s := Sweep{Eval: eval, Metric: "ppl", LowerIsBetter: true, Columns: []string{"tokens", "KL (nats)", "top-1"}}
	greedy := false
	for _, r := range results {
		greedy = greedy || r.GreedyPositions > 0
	}
	if greedy {
		s.Columns = append(s.Columns, "greedy top-1")
	}
	fullDone := false
	for _, p := range policiesOf(results) {
		for _, r := range results {
			if r.Policy != p {
				continue
			}
			budget := r.Budget
			if pp, _ := sparsity.ParsePolicy(p); pp == sparsity.Full {
				if fullDone {
					continue
				}
				fullDone, budget = true, 0
			}
			values := []float64{float64(r.BudgetTokens), r.KL, r.Top1Agreement}
			if greedy {
				values = append(values, r.GreedyAgreement)
			}
			s.Add(r.Policy, budget, "", r.PPL, r.PPLFull, values...)
		}
	}
	return s
}

// policiesOf lists the policies of results in order of first appearance,
// full first.
func policiesOf(results []Result) []string {
	var out []string
	for _, r := range results {
		seen := false
		for _, p := range out {
			seen = seen || p == r.Policy
		}
		if !seen {
			out = append(out, r.Policy)
		}
	}
	for i, p := range out {
		if pp, _ := sparsity.ParsePolicy(p); pp == sparsity.Full && i > 0 {
			copy(out[1:i+1], out[:i])
			out[0] = p
		}
	}
	return out
}
