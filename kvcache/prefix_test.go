package kvcache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"sieve/kernels"
)

// tokensOf returns n token ids derived from seed.
func tokensOf(seed uint64, n int) []int32 {
	r := rand.New(rand.NewPCG(seed, 3))
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(r.IntN(90))
	}
	return t
}

// blockData is a copy of block b's keys, values and positions.
func blockData(kc *Cache, b int32) []float32 {
	p := kc.bp
	var d []float32
	if p.f16 != nil {
		for _, h := range p.f16[int(b)*p.elems : int(b+1)*p.elems] {
			d = append(d, kernels.F16ToF32(h))
		}
	} else {
		d = append(d, p.f32[int(b)*p.elems:int(b+1)*p.elems]...)
	}
	for _, pos := range p.pos[int(b)*p.bs : int(b+1)*p.bs] {
		d = append(d, float32(pos))
	}
	return d
}

// slotData is a copy of the keys, values and position of slot i of the
// sequence's layer.
func slotData(kc *Cache, id int32, layer, i int) []float32 {
	p := kc.bp
	b := kc.seq(id).layers[layer].blocks[i/p.bs]
	return append(slotKV(kc, id, layer, i), float32(p.pos[int(b)*p.bs+i%p.bs]))
}

// audit fails the test when the pool's invariants are broken.
func audit(t *testing.T, kc *Cache) {
	t.Helper()
	if err := kc.Audit(); err != nil {
		t.Fatal(err)
	}
}

// registered fills a sequence with n tokens of random keys and values,
// enters its full blocks into the prefix cache and returns it.
func registered(t *testing.T, kc *Cache, tokens []int32, r *rand.Rand) int32 {
	t.Helper()
	id := kc.NewSeq()
	fill(t, kc, id, 0, len(tokens), r)
	kc.Register(id, tokens)
	audit(t, kc)
	return id
}

func TestAttachReusesTheLongestCachedRun(t *testing.T) {
	base := tokensOf(1, 14) // 3 full blocks of 4 and 2 tokens
	changed := func(at int) []int32 {
		c := slices.Clone(base)
		c[at] = (c[at] + 1) % 90
		return c
	}
	tests := []struct {
		name    string
		tokens  []int32
		limit   int
		private []bool
		want    int
	}{
		{"whole prefix", base, 13, nil, 12},
		{"limit inside a block", base, 11, nil, 8},
		{"longer prompt", append(slices.Clone(base), 5, 6, 7), 16, nil, 12},
		{"differs at 5", changed(5), 13, nil, 4},
		{"differs at 4", changed(4), 13, nil, 4},
		{"differs at 3", changed(3), 13, nil, 0},
		{"differs at 12", changed(12), 13, nil, 12},
		{"private layer 1", base, 13, []bool{false, true}, 12},
		{"nothing", tokensOf(2, 14), 13, nil, 0},
	}
	for _, dt := range []kernels.DType{kernels.F16, kernels.F32} {
		for _, tt := range tests {
			t.Run(dt.String()+"/"+tt.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(5, 6))
				kc := newCache(t, tinyConfig, 40, 4, dt, nil)
				a := registered(t, kc, base, r)
				b := kc.NewSeq()
				got := kc.Attach(b, tt.tokens, tt.limit, tt.private)
				audit(t, kc)
				if got != tt.want {
					t.Fatalf("attached %d tokens, want %d", got, tt.want)
				}
				for l := range tinyConfig.Layers {
					if kc.Len(b, l) != got || kc.LayerBlocks(b, l) != got/4 {
						t.Fatalf("layer %d: %d slots in %d blocks after attaching %d", l, kc.Len(b, l), kc.LayerBlocks(b, l), got)
					}
					for i := range got {
						if !slices.Equal(slotData(kc, b, l, i), slotData(kc, a, l, i)) {
							t.Fatalf("layer %d slot %d differs from the cached one", l, i)
						}
					}
					shared := kc.SharedBlocks(b, l)
					if want := got / 4; tt.private != nil && tt.private[l] {
						want = 0
					} else if shared != want {
						t.Fatalf("layer %d: %d shared blocks, want %d", l, shared, want)
					}
				}
				kc.Free(a)
				audit(t, kc)
				kc.Free(b)
				audit(t, kc)
				if st := kc.Stats(); st.Used != 0 || kc.FreeBlocks() != 40 || st.Cached != 3*tinyConfig.Layers || st.CachedIdle != st.Cached {
					t.Fatalf("after freeing all: %+v, %d free", st, kc.FreeBlocks())
				}
			})
		}
	}
}

func TestRetainNeverRewritesACachedBlock(t *testing.T) {
	base := tokensOf(1, 12)
	keep := []int{0, 1, 5, 6, 7, 9, 10, 11, 13} // rewrites blocks 0-2 of 4 slots
	tests := []struct {
		name      string
		blocks    int  // pool size
		alone     bool // the first sequence ends before the second compacts
		wantCache int  // entries left cached afterwards
	}{
		{"shared with a running sequence", 40, false, 3},
		{"cached only, blocks to spare", 40, true, 3},
		{"cached only, no block to spare", 8, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			kc := newCache(t, tinyConfig, tt.blocks, 4, kernels.F32, nil)
			a := registered(t, kc, base, r)
			var cachedBlocks []int32
			for _, e := range kc.bp.index {
				cachedBlocks = append(cachedBlocks, e.blocks...)
			}
			before := make([][]float32, len(cachedBlocks))
			for i, b := range cachedBlocks {
				before[i] = blockData(kc, b)
			}
			b := kc.NewSeq()
			if got := kc.Attach(b, base, 12, nil); got != 12 {
				t.Fatalf("attached %d", got)
			}
			if tt.alone {
				kc.Free(a)
			}
			fill(t, kc, b, 12, 3, r)
			want := make([][]float32, len(keep))
			for i, k := range keep {
				want[i] = slotData(kc, b, 0, k)
			}
			if kc.FreeBlocks() < kc.SharedBlocks(b, 0) {
				t.Fatalf("test setup: %d free, %d shared", kc.FreeBlocks(), kc.SharedBlocks(b, 0))
			}
			kc.Retain(b, 0, keep)
			audit(t, kc)
			for i := range keep {
				if got := slotData(kc, b, 0, i); !slices.Equal(got, want[i]) {
					t.Fatalf("slot %d after retain holds position %v, want %v", i, got[len(got)-1], want[i][len(want[i])-1])
				}
			}
			if len(kc.bp.index) != tt.wantCache {
				t.Fatalf("%d entries cached, want %d", len(kc.bp.index), tt.wantCache)
			}
			for i, blk := range cachedBlocks {
				if kc.bp.entry[blk] != nil && !slices.Equal(blockData(kc, blk), before[i]) {
					t.Fatalf("cached block %d was rewritten", blk)
				}
			}
			if !tt.alone {
				kc.Free(a)
			}
			kc.Free(b)
			audit(t, kc)
			if kc.FreeBlocks() != tt.blocks {
				t.Fatalf("%d of %d blocks free at the end", kc.FreeBlocks(), tt.blocks)
			}
		})
	}
}

func TestReserveReclaimsLeastRecentlyReleased(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	kc := newCache(t, tinyConfig, 12, 4, kernels.F16, nil) // 6 blocks per layer
	old := tokensOf(1, 24)
	kc.Free(registered(t, kc, old, r))
	if kc.FreeBlocks() != 12 || kc.Stats().CachedIdle != 12 {
		t.Fatalf("after the first sequence: %d free, %+v", kc.FreeBlocks(), kc.Stats())
	}
	b := kc.NewSeq()
	fill(t, kc, b, 0, 8, r) // 4 blocks: the entries of the last two token blocks go
	audit(t, kc)
	c := kc.NewSeq()
	if got := kc.Attach(c, old, 23, nil); got != 16 {
		t.Fatalf("attached %d tokens after reclaiming, want the first 16", got)
	}
	audit(t, kc)
	// Every other block is held: nothing cached may be handed out.
	d := kc.NewSeq()
	if err := kc.Reserve(d, 1); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("reserve with every block held: %v", err)
	}
	freeAll(t, kc, 12, b, c, d)
	audit(t, kc)
}

func TestRegisterStopsAtCompactedBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	kc := newCache(t, tinyConfig, 40, 4, kernels.F16, nil)
	tokens := tokensOf(4, 16)
	a := kc.NewSeq()
	fill(t, kc, a, 0, 16, r)
	kc.Retain(a, 1, []int{0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15})
	kc.Register(a, tokens)
	audit(t, kc)
	if got := len(kc.bp.index); got != 2 {
		t.Fatalf("%d blocks entered, want the 2 before the compacted slots", got)
	}
	freeAll(t, kc, 40, a)
}

func TestRandomOwnershipOperations(t *testing.T) {
	// Sequences over a few shared prefixes, on a small pool, attach,
	// grow, enter blocks, compact and end at random; after every step the
	// ownership invariants hold and no cached block has changed since it
	// was entered.
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 11))
			kc := newCache(t, tinyConfig, 48, 4, kernels.F32, nil)
			bases := [][]int32{tokensOf(seed, 40), tokensOf(seed+100, 40)}
			type live struct {
				id        int32
				tokens    []int32
				compacted bool
			}
			var seqs []*live
			type entered struct {
				e    *entry
				data []float32
			}
			snapshot := map[int32]entered{} // cached block -> its entry and contents when entered
			check := func(op string) {
				t.Helper()
				if err := kc.Audit(); err != nil {
					t.Fatalf("after %s: %v", op, err)
				}
				for b, was := range snapshot {
					if kc.bp.entry[b] != was.e {
						delete(snapshot, b) // reclaimed, perhaps entered again
					} else if !slices.Equal(blockData(kc, b), was.data) {
						t.Fatalf("after %s: cached block %d changed", op, b)
					}
				}
				for _, e := range kc.bp.index {
					for _, b := range e.blocks {
						if _, ok := snapshot[b]; !ok {
							snapshot[b] = entered{e, blockData(kc, b)}
						}
					}
				}
			}
			for step := range 400 {
				switch op := r.IntN(5); {
				case op == 0 || len(seqs) == 0: // a new sequence over a base prefix
					base := bases[r.IntN(2)]
					tokens := slices.Clone(base[:4+r.IntN(36)])
					s := &live{id: kc.NewSeq(), tokens: tokens}
					kc.Attach(s.id, tokens, len(tokens)-1, []bool{false, r.IntN(2) == 0})
					seqs = append(seqs, s)
					check("attach")
				case op == 1: // grow by a few tokens, and enter full blocks
					s := seqs[r.IntN(len(seqs))]
					n := kc.Len(s.id, 0)
					add := 1 + r.IntN(6)
					if kc.Need(s.id, add) > kc.FreeBlocks() || kc.Len(s.id, 1) != n {
						continue
					}
					for len(s.tokens) < n+add {
						s.tokens = append(s.tokens, int32(r.IntN(90)))
					}
					fill(t, kc, s.id, int(kc.seq(s.id).layers[0].lastPos(kc))+1, add, r)
					if !s.compacted {
						kc.Register(s.id, s.tokens[:n+add])
					}
					check("grow")
				case op == 2: // compact one layer
					s := seqs[r.IntN(len(seqs))]
					l := r.IntN(tinyConfig.Layers)
					n := kc.Len(s.id, l)
					if n < 2 || kc.FreeBlocks() < kc.SharedBlocks(s.id, l) {
						continue
					}
					var keep []int
					for i := range n {
						if i == 0 || r.IntN(3) > 0 {
							keep = append(keep, i)
						}
					}
					kc.Retain(s.id, l, keep)
					s.compacted = true
					check("retain")
				default: // end a sequence
					i := r.IntN(len(seqs))
					kc.Free(seqs[i].id)
					seqs = slices.Delete(seqs, i, i+1)
					check("free")
				}
				_ = step
			}
			for _, s := range seqs {
				kc.Free(s.id)
			}
			check("end")
			if kc.FreeBlocks() != 48 {
				t.Fatalf("%d of 48 blocks free at the end", kc.FreeBlocks())
			}
		})
	}
}

// lastPos is the position of the table's last slot, or -1 when empty.
func (t *table) lastPos(kc *Cache) int32 {
	if t.n == 0 {
		return -1
	}
	b := t.blocks[(t.n-1)/kc.bp.bs]
	return kc.bp.pos[int(b)*kc.bp.bs+(t.n-1)%kc.bp.bs]
}
