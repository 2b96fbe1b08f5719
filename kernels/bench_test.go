package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchShapes are the weight matrices of the "small" and "1b" models.
var benchShapes = []struct {
	name       string
	rows, cols int
}{
	{"small-ffn-up", 2048, 768},
	{"small-ffn-down", 768, 2048},
	{"small-vocab", 32000, 768},
	{"1b-attn", 2048, 2048},
	{"1b-ffn-up", 8192, 2048},
	{"1b-ffn-down", 2048, 8192},
}

// benchMatMul runs MatMul of shape × dtype × n with implementation im,
// reporting weight bandwidth (b.SetBytes) and GFLOP/s.
func benchMatMul(b *testing.B, im *impl, rows, cols int, dt DType, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	m := randMat(r, dt, rows, cols)
	x := randFloats(r, n*cols)
	out := make([]float32, n*rows)
	p := NewPool(runtime.NumCPU())
	defer p.Close()
	matMul(im, p, out, m, x, n)
	b.SetBytes(int64(len(m.Data)))
	b.ResetTimer()
	for range b.N {
		matMul(im, p, out, m, x, n)
	}
	b.ReportMetric(2*float64(rows)*float64(cols)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMul covers the model shapes for every weight type and batch
// size with the active implementation.
func BenchmarkMatMul(b *testing.B) {
	for _, s := range benchShapes {
		for _, dt := range []DType{F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K} {
			for _, n := range []int{1, 4, 16, 64, 512} {
				b.Run(fmt.Sprintf("%s/%v/n=%d", s.name, dt, n), func(b *testing.B) {
					benchMatMul(b, active, s.rows, s.cols, dt, n)
				})
			}
		}
	}
}

// BenchmarkMatVecImpl compares every implementation on one matrix-vector
// product per type.
func BenchmarkMatVecImpl(b *testing.B) {
	for _, im := range supportedImpls() {
		for _, dt := range []DType{F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K} {
			b.Run(fmt.Sprintf("%s/%v", im.name, dt), func(b *testing.B) {
				benchMatMul(b, im, 768, 768, dt, 1)
			})
		}
	}
}

// BenchmarkAttention runs one fused attention pass of a GQA group (4 query
// heads of 64 over one F16 key/value head) per implementation, reporting
// the key/value bytes read per second.
func BenchmarkAttention(b *testing.B) {
	for _, im := range supportedImpls() {
		for _, n := range []int{1024, 8192} {
			if im == genericImpl && n > 1024 {
				continue
			}
			b.Run(fmt.Sprintf("%s/f16/ctx=%d", im.name, n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				c := newAttnCase(r, 4, 64, 64, n)
				st := newAttnState(im, 4, 64)
				out := make([]float32, 4*64)
				b.SetBytes(int64(2 * 2 * n * 64))
				for range b.N {
					st.Reset()
					for i := 0; i < n; i += 256 {
						st.AttendF16(c.q, c.kh[i*64:], c.vh[i*64:], 64, min(256, n-i), 0.125, nil)
					}
					st.Finish(out)
				}
			})
		}
	}
}

// BenchmarkElementwise covers softmax over the vocabulary, SiLU×mul over
// the FFN width and RMSNorm over the model width, per implementation.
func BenchmarkElementwise(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := randFloats(r, 32000)
	y := randFloats(r, 32000)
	for _, im := range supportedImpls() {
		b.Run(im.name+"/softmax-32000", func(b *testing.B) {
			buf := make([]float32, len(x))
			b.SetBytes(4 * int64(len(x)))
			for range b.N {
				copy(buf, x)
				softmax(im, buf)
			}
		})
		b.Run(im.name+"/silumul-8192", func(b *testing.B) {
			g := make([]float32, 8192)
			b.SetBytes(4 * 8192)
			for range b.N {
				copy(g, x)
				siluMul(im, g, y[:8192])
			}
		})
		b.Run(im.name+"/rmsnorm-2048", func(b *testing.B) {
			out := make([]float32, 2048)
			b.SetBytes(4 * 2048)
			for range b.N {
				rmsNorm(im, out, x[:2048], y[:2048], 1e-5)
			}
		})
	}
}
