package eval

import (
	"context"
	"math"
	"slices"

	"sieve/engine"
	"sieve/sparsity"
)

// logitSource teacher-forces a sequence (BOS first) under a policy and
// budget and calls step(i, logits) with the raw logits that predict seq[i],
// for i from 1 in order; *runner is the engine's, tests plant their own.
type logitSource interface {
	forced(ctx context.Context, seq []int32, policy string, budget float64, step func(i int, logits []float32)) (engine.Usage, error)
}

// reference is full's run over one sequence.
type reference struct {
	seq    []int32
	logits [][]float32 // logits[i] predicts seq[i]; logits[0] is nil
	top    []int       // argmax of logits[i]
}

// newReference teacher-forces seq under full and keeps its logits.
func newReference(ctx context.Context, r logitSource, seq []int32) (*reference, error) {
	ref := &reference{seq: seq, logits: make([][]float32, len(seq)), top: make([]int, len(seq))}
	_, err := r.forced(ctx, seq, string(sparsity.Full), 0, func(i int, logits []float32) {
		ref.logits[i] = slices.Clone(logits)
		ref.top[i] = argmax(logits)
	})
	return ref, err
}

// seqStats are sums over scored positions.
type seqStats struct {
	n, agree      int     // positions, and those whose argmax is full's
	nll, nllFull  float64 // negative log-likelihoods of the tokens
	kl            float64 // KL(full ‖ policy)
	kept, evicted int64   // the engine's KV counts
}

// score teacher-forces the reference's sequence under policy and budget and
// sums the statistics of the positions from from on.
func score(ctx context.Context, r logitSource, ref *reference, policy string, budget float64, from int) (seqStats, error) {
	var st seqStats
	var logP, logQ []float64
	usage, err := r.forced(ctx, ref.seq, policy, budget, func(i int, logits []float32) {
		if i < from {
			return
		}
		logQ = logSoftmax(logQ, logits)
		logP = logSoftmax(logP, ref.logits[i])
		tok := ref.seq[i]
		st.n++
		st.nll -= logQ[tok]
		st.nllFull -= logP[tok]
		st.kl += klDiv(logP, logQ)
		if argmax(logits) == ref.top[i] {
			st.agree++
		}
	})
	st.kept, st.evicted = int64(usage.KVTokensKept), int64(usage.KVTokensEvicted)
	return st, err
}

// add adds o's sums to s.
func (s *seqStats) add(o seqStats) {
	s.n += o.n
	s.agree += o.agree
	s.nll += o.nll
	s.nllFull += o.nllFull
	s.kl += o.kl
	s.kept += o.kept
	s.evicted += o.evicted
}

// result turns the sums into a Result's averages.
func (s seqStats) result(policy string, budget float64) Result {
	n := float64(s.n)
	ppl, pplFull := math.Exp(s.nll/n), math.Exp(s.nllFull/n)
	return Result{
		Policy:          policy,
		Budget:          budget,
		Positions:       s.n,
		PPL:             ppl,
		PPLFull:         pplFull,
		PPLIncrease:     ppl/pplFull - 1,
		KL:              s.kl / n,
		Top1Agreement:   float64(s.agree) / n,
		KVTokensKept:    s.kept,
		KVTokensEvicted: s.evicted,
	}
}
