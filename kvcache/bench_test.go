package kvcache

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
)

// BenchmarkAttendDecode measures one layer's decode attention for 8
// sequences of 1024 slots in the "small" shape (12 heads over 4 KV heads
// of 64), with and without score accumulation, for each storage type, and
// for one sequence of 8192 slots.
func BenchmarkAttendDecode(b *testing.B) {
	c := model.Config{Dim: 768, HiddenDim: 2048, Layers: 1, Heads: 12, KVHeads: 4, HeadDim: 64,
		VocabSize: 32, ContextLen: 8192, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 64}
	for _, tc := range []struct {
		dt        kernels.DType
		scored    bool
		seqs, ctx int
	}{{kernels.F16, false, 8, 1024}, {kernels.F16, true, 8, 1024}, {kernels.Q8_0, false, 8, 1024}, {kernels.Q8_0, true, 8, 1024},
		{kernels.Q4_0, false, 8, 1024}, {kernels.F16, false, 1, 8192}, {kernels.Q8_0, false, 1, 8192}} {
		dt, scored, seqs, ctx := tc.dt, tc.scored, tc.seqs, tc.ctx
		b.Run(fmt.Sprintf("%v/scored=%v/%dx%d", dt, scored, seqs, ctx), func(b *testing.B) {
			pool := kernels.NewPool(2)
			defer pool.Close()
			kc := newCache(b, c, seqs*(ctx/16+8), 16, dt, pool)
			r := rand.New(rand.NewPCG(1, 2))
			var batch llama.Batch
			for range seqs {
				s := kc.NewSeq()
				if scored {
					kc.SetAccumulate(s, 0, 0)
				}
				if err := kc.Reserve(s, ctx+100); err != nil {
					b.Fatal(err)
				}
				t := &kc.seq(s).layers[0]
				t.n = ctx // garbage keys are fine for timing
				for i := 0; i < ctx; i++ {
					kc.bp.pos[int(t.blocks[i/16])*16+i%16] = int32(i)
				}
				batch.Add(0, int32(ctx), s, true)
			}
			qd, kvd := c.Heads*c.HeadDim, c.KVDim()
			q, k, v, out := randVec(r, seqs*qd), randVec(r, seqs*kvd), randVec(r, seqs*kvd), make([]float32, seqs*qd)
			for i := range b.N {
				for j := range batch.Pos {
					batch.Pos[j] = int32(ctx + i%100)
				}
				if i%100 == 0 {
					for _, s := range batch.Seq {
						kc.seq(s).layers[0].n = ctx
					}
				}
				kc.Attend(0, &batch, q, k, v, out)
			}
		})
	}
}
