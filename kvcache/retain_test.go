package kvcache

import (
	"math/rand/v2"
	"slices"
	"testing"

	"sieve/kernels"
)

// slotKV returns a copy of the keys and values (all KV heads) of one slot.
func slotKV(kc *Cache, seq int32, layer, slot int) []float32 {
	t := &kc.seq(seq).layers[layer]
	bp := kc.bp
	blk, o := t.blocks[slot/bp.bs], slot%bp.bs
	var out []float32
	for kh := 0; kh < bp.kvHeads; kh++ {
		for _, off := range []int{bp.keyOff(blk, kh, o), bp.valOff(blk, kh, o)} {
			if bp.f16 != nil {
				for _, h := range bp.f16[off : off+bp.hd] {
					out = append(out, kernels.F16ToF32(h))
				}
			} else {
				out = append(out, bp.f32[off:off+bp.hd]...)
			}
		}
	}
	return out
}

// snapshot returns every slot's contents of seq, by layer.
func snapshot(kc *Cache, seq int32) [][][]float32 {
	var s [][][]float32
	for l := 0; l < kc.cfg.Layers; l++ {
		var layer [][]float32
		for i := 0; i < kc.Len(seq, l); i++ {
			layer = append(layer, slotKV(kc, seq, l, i))
		}
		s = append(s, layer)
	}
	return s
}

func sameSlots(a, b [][][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y [][]float32) bool {
		return slices.EqualFunc(x, y, func(p, q []float32) bool { return slices.Equal(p, q) })
	})
}

func TestRetainCompacts(t *testing.T) {
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16} {
		t.Run(dt.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(9, 10))
			kc := newCache(t, tinyConfig, 20, 4, dt, nil)
			a := kc.NewSeq()
			fill(t, kc, a, 0, 10, r) // 3 blocks per layer
			before := snapshot(kc, a)
			keep := []int{0, 1, 5, 9}
			kc.Retain(a, 1, keep)
			if got, want := kc.Positions(a, 1, nil), []int32{0, 1, 5, 9}; !slices.Equal(got, want) {
				t.Fatalf("positions after retain %v, want %v", got, want)
			}
			for i, k := range keep {
				if !slices.Equal(slotKV(kc, a, 1, i), before[1][k]) {
					t.Fatalf("slot %d does not hold old slot %d", i, k)
				}
			}
			if !sameSlots(snapshot(kc, a)[:1], before[:1]) {
				t.Fatal("compacting layer 1 changed layer 0")
			}
			if kc.Len(a, 0) != 10 || kc.Len(a, 1) != 4 {
				t.Fatalf("lengths %d, %d; want 10, 4", kc.Len(a, 0), kc.Len(a, 1))
			}
			// Layer 1 keeps one block of its three.
			if got := kc.Stats().Used; got != 4 {
				t.Fatalf("%d blocks used, want 4", got)
			}
			kc.Retain(a, 0, nil)
			if kc.Len(a, 0) != 0 || kc.Stats().LayerUsed[0] != 0 {
				t.Fatal("retaining nothing kept blocks")
			}
			freeAll(t, kc, 20, a)
		})
	}
}

func TestRetainPanicsOnBadSlotList(t *testing.T) {
	tests := []struct {
		name string
		keep []int
	}{
		{"repeated", []int{0, 0}},
		{"decreasing", []int{3, 1}},
		{"negative", []int{-1}},
		{"past the end", []int{0, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 12))
			kc := newCache(t, tinyConfig, 20, 4, kernels.F32, nil)
			a := kc.NewSeq()
			fill(t, kc, a, 0, 6, r)
			defer func() {
				if recover() == nil {
					t.Fatalf("Retain accepted %v", tc.keep)
				}
			}()
			kc.Retain(a, 1, tc.keep)
		})
	}
}
