package sparsity

import "slices"

// SnapKVScores returns the scores SnapKV ranks the prompt by, appended to
// dst[:0]: obs (the summed observation weights per prompt slot) max-pooled
// over positions with an odd kernel width, each slot taking the largest
// value within kernel/2 slots of it. The last window slots (the observation
// window, which Keep protects) are pooled separately from the rest, so that
// their large recent weights do not spill into the prefix. dst must not
// overlap obs.
func SnapKVScores(dst, obs []float32, window, kernel int) []float32 {
	cut := max(len(obs)-window, 0)
	dst = MaxPool(slices.Grow(dst[:0], len(obs)), obs[:cut], kernel)
	tail := MaxPool(dst[len(dst):], obs[cut:], kernel)
	return dst[:len(dst)+len(tail)]
}

// MaxPool appends to dst[:0] the 1-D max pooling of src with an odd kernel
// width, stride 1 and no padding values: out[i] is the largest src[j] with
// |i-j| <= kernel/2. dst must not overlap src.
func MaxPool(dst, src []float32, kernel int) []float32 {
	r := kernel / 2
	dst = dst[:0]
	for i := range src {
		m := src[max(i-r, 0)]
		for _, v := range src[max(i-r, 0)+1 : min(i+r+1, len(src))] {
			m = max(m, v)
		}
		dst = append(dst, m)
	}
	return dst
}
