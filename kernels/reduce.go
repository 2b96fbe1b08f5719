package kernels

// Reduction order. Every variant (generic Go, AVX2, AVX-512) computes each
// dot product in the same order, so all of them give the same bits:
//
//   - Float weights (F32, F16, BF16) with a float32 input of length K use 16
//     lanes: lane l accumulates w[i]*x[i] for i ≡ l (mod 16), in increasing
//     i, each step a fused multiply-add rounded once (acc = fma(w, x, acc)).
//     F16 and BF16 values are first widened to float32, which is exact. A
//     tail of K mod 16 values is one more step with the missing values taken
//     as zero, which leaves those lanes unchanged.
//   - Q8_0 weights with Q8 activations: block b contributes eight exact
//     integer partial dots p_l (values 4l..4l+3 of the block) that are
//     converted to float32 and added as acc = fma(p_l, s_b, acc), where
//     s_b = d_w*d_x is the product of the two block scales rounded to
//     float32. Even blocks go to lanes 0-7, odd blocks to lanes 8-15.
//   - The 16 lanes are then summed by halving: lanes l and l+8, then l and
//     l+4, l and l+2, and finally lanes 0 and 1 (sum16).
//
// The order depends only on K, never on how many rows or inputs are
// processed together or on how rows are split between threads, which is
// what makes MatMul batch-invariant.

// lanes is the number of partial sums of every dot product.
const lanes = 16

// sum16 adds the 16 partial sums in the fixed halving order.
func sum16(a *[lanes]float32) float32 {
	var s [8]float32
	for l := range 8 {
		s[l] = a[l] + a[l+8]
	}
	for l := range 4 {
		s[l] += s[l+4]
	}
	s[0] += s[2]
	s[1] += s[3]
	return s[0] + s[1]
}
