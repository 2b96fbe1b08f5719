package sparsity

// Span pooling widths of RankScores: a slot ranks with the best slot among
// the SpanAfter positions before it and the SpanBefore positions after it.
//
// A fact is several tokens, and attention marks where it starts: the
// queries that rank the slots (the question, the tokens that read the
// fact) attend to the fact's key and its first value tokens, while the
// tokens that follow (the rest of a number, say) are read only later, one
// decode step at a time. Keeping a span after each attended slot keeps
// them; a shorter reach before it keeps the key's first tokens.
const (
	SpanBefore = 3
	SpanAfter  = 8
)

// RankScores returns the scores Keep ranks the slots of a layer by,
// appended to dst[:0]. positions are the slots' positions in cache order
// and scores their accumulated scores; from is the position of the first
// query that added to them.
//
// Each score is first divided by the number of queries that added to it,
// those from max(from, position) to the newest slot's position: the mean
// weight a query gave the slot. A plain sum ranks a slot by its age as
// much as by its weight (an early slot has been seen by every later query)
// and evicts facts in the middle of a long prompt. The means are then
// max-pooled over neighbouring positions, each slot taking the largest
// mean of the slots from SpanAfter positions before it to SpanBefore
// positions after it, so that Keep keeps whole spans rather than lone
// tokens. Only the slots Keep ranks (neither lb's sinks nor its window)
// are pooled, and only among themselves. A NaN is ignored unless every
// value in reach is NaN. When Keep keeps every slot, or scores does not
// have one per slot, dst is a copy of scores.
//
// dst must not overlap scores.
func RankScores(dst []float32, positions []int32, scores []float32, lb LayerBudget, from int32) []float32 {
	dst = append(dst[:0], scores...)
	n := len(positions)
	if lb.Dense || n <= lb.Budget() || len(scores) != n {
		return dst
	}
	last := positions[n-1]
	for i, p := range positions {
		dst[i] = scores[i] / float32(last-max(p, from)+1)
	}
	lo := 0
	for lo < n && positions[lo] < int32(lb.Sink) {
		lo++
	}
	hi := n - min(lb.Window, n-lo)
	mean := dst
	dst = append(dst, mean[lo:hi]...) // the pooled values, after the means
	pooled := dst[n:]
	for i := lo; i < hi; i++ {
		m := mean[i]
		for j := i - 1; j >= lo && positions[j] >= positions[i]-SpanAfter; j-- {
			m = larger(m, mean[j])
		}
		for j := i + 1; j < hi && positions[j] <= positions[i]+SpanBefore; j++ {
			m = larger(m, mean[j])
		}
		pooled[i-lo] = m
	}
	copy(dst[lo:hi], pooled)
	return dst[:n]
}

// larger is the larger of a and b, a number over NaN.
func larger(a, b float32) float32 {
	if b > a || a != a {
		return b
	}
	return a
}
