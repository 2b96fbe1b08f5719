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

func TestForkCopiesOnWrite(t *testing.T) {
	for _, dt := range []kernels.DType{kernels.F32, kernels.F16} {
		t.Run(dt.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			kc := newCache(t, tinyConfig, 20, 4, dt, nil)
			layers := tinyConfig.Layers
			a := kc.NewSeq()
			fill(t, kc, a, 0, 6, r) // blocks: one full, one half full, per layer
			before := snapshot(kc, a)
			c := kc.Fork(a)
			if got := kc.Stats().Used; got != 2*layers {
				t.Fatalf("fork took blocks: %d used", got)
			}
			if !sameSlots(snapshot(kc, c), before) {
				t.Fatal("fork does not see the parent's slots")
			}
			if got := kc.Need(c, 1); got != layers {
				t.Fatalf("Need on a shared tail = %d, want %d copies", got, layers)
			}
			fill(t, kc, c, 6, 1, r)
			if got := kc.Stats().Used; got != 3*layers {
				t.Fatalf("write into shared tail: %d used, want %d", got, 3*layers)
			}
			if !sameSlots(snapshot(kc, a), before) {
				t.Fatal("child's write changed the parent")
			}
			cs := snapshot(kc, c)
			for l := range cs {
				if !sameSlots([][][]float32{cs[l][:6]}, [][][]float32{before[l]}) {
					t.Fatalf("layer %d: copy lost the shared slots", l)
				}
			}
			// The parent's tail has one owner again: writing takes no copy.
			if got := kc.Need(a, 1); got != 0 {
				t.Fatalf("Need on an unshared tail = %d, want 0", got)
			}
			fill(t, kc, a, 6, 1, r)
			if got := kc.Stats().Used; got != 3*layers {
				t.Fatalf("%d used after the parent's write, want %d", got, 3*layers)
			}
			if !sameSlots(snapshot(kc, c), cs) {
				t.Fatal("parent's write changed the child")
			}
			kc.Free(a)
			if got := kc.Stats().Used; got != 2*layers {
				t.Fatalf("%d used after freeing the parent, want %d", got, 2*layers)
			}
			freeAll(t, kc, 20, c)
		})
	}
}

func TestForkSharesReservedBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	kc := newCache(t, tinyConfig, 20, 4, kernels.F32, nil)
	a := kc.NewSeq()
	fill(t, kc, a, 0, 4, r)
	if err := kc.Reserve(a, 2); err != nil { // an empty block per layer
		t.Fatal(err)
	}
	c := kc.Fork(a)
	if got := kc.Need(c, 1); got != tinyConfig.Layers {
		t.Fatalf("Need into a shared reserved block = %d, want %d", got, tinyConfig.Layers)
	}
	fill(t, kc, c, 4, 1, r)
	fill(t, kc, a, 4, 1, r) // the reserved block is now the parent's alone
	if got := kc.Stats().Used; got != 3*tinyConfig.Layers {
		t.Fatalf("%d used, want %d", got, 3*tinyConfig.Layers)
	}
	if slices.Equal(slotKV(kc, a, 0, 4), slotKV(kc, c, 0, 4)) {
		t.Fatal("parent and child share the slot written after the fork")
	}
	freeAll(t, kc, 20, c, a)
}

func TestRetainCompactsAndCopiesShared(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	kc := newCache(t, tinyConfig, 20, 4, kernels.F16, nil)
	a := kc.NewSeq()
	fill(t, kc, a, 0, 10, r) // 3 blocks per layer
	before := snapshot(kc, a)
	c := kc.Fork(a)
	keep := []int{0, 1, 5, 9}
	if err := kc.Retain(c, 1, keep); err != nil {
		t.Fatal(err)
	}
	if !sameSlots(snapshot(kc, a), before) {
		t.Fatal("compacting the child changed the parent")
	}
	if got, want := kc.Positions(c, 1, nil), []int32{0, 1, 5, 9}; !slices.Equal(got, want) {
		t.Fatalf("positions after retain %v, want %v", got, want)
	}
	for i, k := range keep {
		if !slices.Equal(slotKV(kc, c, 1, i), before[1][k]) {
			t.Fatalf("slot %d does not hold old slot %d", i, k)
		}
	}
	if kc.Len(c, 0) != 10 || kc.Len(c, 1) != 4 {
		t.Fatalf("lengths %d, %d; want 10, 4", kc.Len(c, 0), kc.Len(c, 1))
	}
	// Layer 1 of the child: block 0 was shared and receives slot 5, so it
	// is copied; blocks 1 and 2 are dropped. Parent keeps its 6 blocks.
	if got := kc.Stats().Used; got != 7 {
		t.Fatalf("%d blocks used, want 7", got)
	}
	if err := kc.Retain(c, 1, []int{0, 0}); err == nil {
		t.Fatal("Retain accepted a repeated slot")
	}
	kc.Free(a)
	if err := kc.Retain(c, 0, nil); err != nil {
		t.Fatal(err)
	}
	if kc.Len(c, 0) != 0 || kc.Stats().LayerUsed[0] != 0 {
		t.Fatal("retaining nothing kept blocks")
	}
	freeAll(t, kc, 20, c)
}
