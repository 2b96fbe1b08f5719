package kvcache

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"sieve/kernels"
	"sieve/llama"
)

// fill reserves and writes n tokens (positions from, from+1, ...) into
// every layer of seq with random keys and values.
func fill(t *testing.T, kc *Cache, seq int32, from, n int, r *rand.Rand) {
	t.Helper()
	if err := kc.Reserve(seq, n); err != nil {
		t.Fatal(err)
	}
	c := kc.cfg
	var b llama.Batch
	for i := 0; i < n; i++ {
		b.Add(0, int32(from+i), seq, false)
	}
	q := randVec(r, n*c.Heads*c.HeadDim)
	out := make([]float32, len(q))
	for l := 0; l < c.Layers; l++ {
		kc.Attend(l, &b, q, randVec(r, n*c.KVDim()), randVec(r, n*c.KVDim()), out)
	}
}

func TestReserveFreeReturnsEveryBlock(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kc := newCache(t, tinyConfig, 40, 4, kernels.F16, nil)
	layers := tinyConfig.Layers
	tests := []struct {
		name       string
		tokens     []int // successive fills
		wantBlocks int   // per layer after the fills
	}{
		{"one token", []int{1}, 1},
		{"exact block", []int{4}, 1},
		{"block and one", []int{5}, 2},
		{"chunks", []int{3, 1, 1, 6}, 3},
		{"decode steps", []int{1, 1, 1, 1, 1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := kc.NewSeq()
			pos := 0
			for _, n := range tt.tokens {
				fill(t, kc, s, pos, n, r)
				pos += n
			}
			st := kc.Stats()
			if st.Used != tt.wantBlocks*layers || st.Free != 40-st.Used {
				t.Fatalf("used %d free %d, want used %d", st.Used, st.Free, tt.wantBlocks*layers)
			}
			for l, u := range st.LayerUsed {
				if u != tt.wantBlocks {
					t.Errorf("layer %d uses %d blocks, want %d", l, u, tt.wantBlocks)
				}
				if kc.Len(s, l) != pos {
					t.Errorf("layer %d holds %d slots, want %d", l, kc.Len(s, l), pos)
				}
			}
			want := make([]int32, pos)
			for i := range want {
				want[i] = int32(i)
			}
			if got := kc.Positions(s, 0, nil); !slices.Equal(got, want) {
				t.Errorf("positions %v, want %v", got, want)
			}
			kc.Free(s)
			if st := kc.Stats(); st.Used != 0 || st.Free != 40 || kc.FreeBlocks() != 40 {
				t.Fatalf("after free: %+v", st)
			}
		})
	}
}

func TestReserveOutOfBlocksTakesNothing(t *testing.T) {
	kc := newCache(t, tinyConfig, 6, 4, kernels.F32, nil)
	a, b := kc.NewSeq(), kc.NewSeq()
	if err := kc.Reserve(a, 8); err != nil { // 2 blocks × 2 layers
		t.Fatal(err)
	}
	if got := kc.Need(b, 5); got != 4 {
		t.Fatalf("Need(5 tokens) = %d, want 4", got)
	}
	err := kc.Reserve(b, 5)
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Reserve beyond the pool: %v, want ErrNoSpace", err)
	}
	if kc.FreeBlocks() != 2 || kc.Len(b, 0) != 0 {
		t.Fatalf("failed Reserve took blocks: %d free", kc.FreeBlocks())
	}
	if err := kc.Reserve(b, 4); err != nil {
		t.Fatal(err)
	}
	kc.Free(a)
	kc.Free(b)
	if kc.FreeBlocks() != 6 {
		t.Fatalf("%d free after freeing all, want 6", kc.FreeBlocks())
	}
	if c := kc.NewSeq(); c != b && c != a {
		t.Errorf("retired ids not reused: got %d", c)
	}
}

func TestAttendWithoutReservePanics(t *testing.T) {
	kc := newCache(t, tinyConfig, 8, 4, kernels.F32, nil)
	s := kc.NewSeq()
	var b llama.Batch
	b.Add(0, 0, s, false)
	c := tinyConfig
	defer func() {
		if recover() == nil {
			t.Fatal("Attend into an unreserved slot did not panic")
		}
	}()
	kc.Attend(0, &b, make([]float32, c.Heads*c.HeadDim), make([]float32, c.KVDim()), make([]float32, c.KVDim()), make([]float32, c.Heads*c.HeadDim))
}

func TestAttendRejectsPositionsOutOfOrder(t *testing.T) {
	kc := newCache(t, tinyConfig, 8, 4, kernels.F32, nil)
	r := rand.New(rand.NewPCG(3, 4))
	s := kc.NewSeq()
	fill(t, kc, s, 5, 2, r) // positions 5, 6
	defer func() {
		if recover() == nil {
			t.Fatal("a position before the cached ones did not panic")
		}
	}()
	fill(t, kc, s, 6, 1, r)
}

func TestNewRejectsBadOptions(t *testing.T) {
	c := tinyConfig
	one := BlockBytes(c, 16, kernels.F16)
	tests := []struct {
		name string
		opt  Options
	}{
		{"fewer blocks than layers", Options{Bytes: one, DType: kernels.F16}},
		{"bad type", Options{Bytes: 100 * one, DType: kernels.Q4_K}},
		{"negative block size", Options{Bytes: 100 * one, BlockSize: -1, DType: kernels.F16}},
	}
	for _, tt := range tests {
		if _, err := New(c, tt.opt, nil); err == nil {
			t.Errorf("%s: New accepted %+v", tt.name, tt.opt)
		}
	}
}

func TestParseMemAvailable(t *testing.T) {
	got, err := parseMemAvailable([]byte("MemTotal:       32000000 kB\nMemFree:  100 kB\nMemAvailable:   24217016 kB\n"))
	if err != nil || got != 24217016*1024 {
		t.Fatalf("parseMemAvailable = %d, %v", got, err)
	}
	if _, err := parseMemAvailable([]byte("MemTotal: 1 kB\n")); err == nil {
		t.Fatal("missing MemAvailable accepted")
	}
}

func TestWorkerPanicReachesCaller(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	c := tinyConfig
	kc := newCache(t, c, 40, 4, kernels.F32, pool)
	r := rand.New(rand.NewPCG(5, 5))
	var b llama.Batch
	for s := range 4 {
		id := kc.NewSeq()
		if err := kc.Reserve(id, 1); err != nil {
			t.Fatal(err)
		}
		b.Add(0, int32(s), id, false)
	}
	kvd := c.KVDim()
	short := randVec(r, c.Heads*c.HeadDim) // one token's queries for four tokens
	defer func() {
		if recover() == nil {
			t.Fatal("a panic in attention did not reach the caller")
		}
	}()
	kc.Attend(0, &b, short, randVec(r, 4*kvd), randVec(r, 4*kvd), make([]float32, 4*c.Heads*c.HeadDim))
}
