package eval

import "math"

// logSoftmax writes the log-probabilities of logits into dst (grown to
// fit), in float64, and returns it.
func logSoftmax(dst []float64, logits []float32) []float64 {
	dst = append(dst[:0], make([]float64, len(logits))...)
	mx := math.Inf(-1)
	for _, x := range logits {
		mx = math.Max(mx, float64(x))
	}
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - mx)
	}
	lse := mx + math.Log(sum)
	for i, x := range logits {
		dst[i] = float64(x) - lse
	}
	return dst
}

// klDiv returns KL(p ‖ q) in nats for distributions given as
// log-probabilities. It sums, per token, p·log(p/q) − p + q: the extra
// terms cancel over the vocabulary, and each term is ≥ 0, so the sum is
// ≥ 0 even for nearly equal distributions, where rounding makes the plain
// sum of p·log(p/q) slightly negative. With d = log p − log q the term is
// p·(d − 1) + q for d > 1 and q·(d·e^d − (e^d − 1)) otherwise, which
// avoids cancellation for small d.
func klDiv(logP, logQ []float64) float64 {
	var kl float64
	for i, lp := range logP {
		lq := logQ[i]
		if math.IsInf(lp, -1) {
			kl += math.Exp(lq) // p = 0: the term is q
			continue
		}
		d := lp - lq
		if d > 1 {
			kl += math.Exp(lp)*(d-1) + math.Exp(lq)
			continue
		}
		kl += max(0, math.Exp(lq)*(d*math.Exp(d)-math.Expm1(d)))
	}
	return kl
}

// argmax returns the index of the largest value, the first one on ties.
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
