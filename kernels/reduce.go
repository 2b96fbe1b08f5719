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
//   - The other 32-value types (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL) with Q8
//     activations are Q8_0 with their block's values decoded to small
//     integers q (value = d*q + m); for Q4_1 and Q5_1 each lane then adds
//     acc = fma(x_l, m_b*d_x, acc) with x_l the sum of its 4 activations.
//   - 256-value types (Q2_K to Q6_K, IQ4_XS) with Q8K activations use 8
//     lanes: in block b, lane l takes the exact integer sum of
//     sc_g*q_j*x_j over the values j with j mod 32 in 4l..4l+3 (g = j/16,
//     the 16-value group), converted to float32 and added as
//     acc = fma(sum, d_w*d_x, acc); types with mins (Q2_K, Q4_K, Q5_K)
//     then add acc = fma(-(mn_2l*X_2l + mn_2l+1*X_2l+1), dmin_w*d_x, acc),
//     X_g the sum of group g's activations. The 8 lanes are summed by
//     halving as below, from the l and l+4 step.
//   - The 16 lanes are then summed by halving: lanes l and l+8, then l and
//     l+4, l and l+2, and finally lanes 0 and 1 (sum16).
//
// The order depends only on K, never on how many rows or inputs are
// processed together or on how rows are split between threads, which is
// what makes MatMul batch-invariant.

// lanes is the number of partial sums of every dot product.
const lanes = 16

// superLanes is the number of partial sums of a 256-value-block product.
const superLanes = 8

// sum8 adds 8 partial sums in sum16's order from its second step.
func sum8(a *[superLanes]float32) float32 {
	s := [4]float32{a[0] + a[4], a[1] + a[5], a[2] + a[6], a[3] + a[7]}
	s[0] += s[2]
	s[1] += s[3]
	return s[0] + s[1]
}

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
