package engine

import "math"

// MaxTopLogprobs is the most alternatives a request may ask for per token.
const MaxTopLogprobs = 20

// logprobs returns the log-probability of token under the log-softmax of
// logits, and the top most likely tokens (highest first, ties by lower id).
// text gives each token's text.
func logprobs(logits []float32, token int32, top int, text func(int32) string) TokenLogprobs {
	mx := logits[0]
	for _, v := range logits[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - mx))
	}
	lse := float64(mx) + math.Log(sum)
	lp := func(id int32) float32 { return float32(float64(logits[id]) - lse) }
	out := TokenLogprobs{TokenLogprob: TokenLogprob{Token: token, Text: text(token), Logprob: lp(token)}}
	if top == 0 {
		return out
	}
	best := make([]int32, 0, top+1)
	for i, v := range logits {
		if len(best) == top && v <= logits[best[top-1]] {
			continue
		}
		j := len(best)
		best = append(best, int32(i))
		for j > 0 && logits[best[j-1]] < v {
			best[j] = best[j-1]
			j--
		}
		best[j] = int32(i)
		best = best[:min(len(best), top)]
	}
	for _, id := range best {
		out.Top = append(out.Top, TokenLogprob{Token: id, Text: text(id), Logprob: lp(id)})
	}
	return out
}
