package synth

import (
	"math"
	"math/rand/v2"
)

// quantileBits is the number of random bits that pick one normal sample.
const quantileBits = 16

// normalSource draws Normal(0, std) samples fast: each 16 bits of a PCG
// stream index a table of the normal quantiles at (i+0.5)/65536, so one
// 64-bit draw gives four samples. The samples take 65536 distinct values
// (up to about 4.3 std), which is plenty for random weights.
type normalSource struct {
	rng   *rand.PCG
	table []float32
}

// newNormalSource returns a deterministic source for seed.
func newNormalSource(seed uint64, std float64) *normalSource {
	n := 1 << quantileBits
	table := make([]float32, n)
	for i := range table {
		p := (float64(i) + 0.5) / float64(n)
		table[i] = float32(std * math.Sqrt2 * math.Erfinv(2*p-1))
	}
	return &normalSource{rng: rand.NewPCG(seed, 0x9e3779b97f4a7c15), table: table}
}

// fill sets every element of dst to a fresh sample.
func (s *normalSource) fill(dst []float32) {
	const mask = 1<<quantileBits - 1
	t := s.table[:mask+1]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		u := s.rng.Uint64()
		dst[i] = t[u&mask]
		dst[i+1] = t[u>>16&mask]
		dst[i+2] = t[u>>32&mask]
		dst[i+3] = t[u>>48&mask]
	}
	if i < len(dst) {
		u := s.rng.Uint64()
		for ; i < len(dst); i++ {
			dst[i] = t[u&mask]
			u >>= quantileBits
		}
	}
}
