package kernels

import (
	"testing"
	"unsafe"
)

func BenchmarkTmpTileL1(b *testing.B) {
	const k = 256
	w := make([]float32, 2*k)
	x := make([]float32, 3*k)
	out := make([]float32, 8)
	for range b.N {
		for i := 0; i < 64; i++ {
			dotF32x2x3AVX2((*byte)(unsafe.Pointer(&w[0])), 4*k, &x[0], 4*k, k, nil, &out[0], 8)
		}
	}
	b.ReportMetric(float64(b.N)*64*2*3*k*2/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
