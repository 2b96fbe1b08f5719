package kernels

// active is the implementation chosen for this CPU once at start-up; every
// exported kernel uses it, so one process always computes the same bits.
var active = bestImpl()

// Implementation levels (impl.level).
const (
	levelGeneric = iota
	levelAVX2
	levelAVX512
)

// Implementation returns the name of the kernel variant in use: "generic",
// "avx2", "avx512" or "avx512-novnni" (AVX-512 floats, AVX2 for Q8_0).
func Implementation() string { return active.name }

// dotF32 returns a · b (equal lengths, not empty) with implementation im.
func dotF32(im *impl, a, b []float32) float32 {
	k := len(a)
	k16 := k &^ (lanes - 1)
	var tail [2 * lanes]float32
	var tp *float32
	if k16 != k {
		copy(tail[:], a[k16:])
		copy(tail[lanes:], b[k16:k])
		tp = &tail[0]
	}
	var out float32
	dot1x1(im, &a[0], &b[0], k16, tp, &out)
	return out
}
