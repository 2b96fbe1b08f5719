package sparsity

import (
	"slices"
	"testing"
)

func TestMaxPool(t *testing.T) {
	src := []float32{1, 3, 2, 0, 0, 5, 1}
	tests := []struct {
		src    []float32
		kernel int
		want   []float32
	}{
		{src: src, kernel: 1, want: src},
		{src: src, kernel: 3, want: []float32{3, 3, 3, 2, 5, 5, 5}},
		{src: src, kernel: 5, want: []float32{3, 3, 3, 5, 5, 5, 5}},
		{src: src, kernel: 7, want: []float32{3, 3, 5, 5, 5, 5, 5}},
		{src: src, kernel: 15, want: []float32{5, 5, 5, 5, 5, 5, 5}},
		{src: []float32{-1, -4, -2}, kernel: 3, want: []float32{-1, -1, -2}},
		{src: []float32{2}, kernel: 7, want: []float32{2}},
		{src: nil, kernel: 7, want: []float32{}},
	}
	for _, tc := range tests {
		got := MaxPool(nil, tc.src, tc.kernel)
		if !slices.Equal(got, tc.want) {
			t.Errorf("MaxPool(%v, %d) = %v, want %v", tc.src, tc.kernel, got, tc.want)
		}
	}
}

func TestSnapKVScores(t *testing.T) {
	obs := []float32{0.5, 0, 0, 2, 0, 0, 1, 9, 4, 3}
	tests := []struct {
		window, kernel int
		want           []float32
	}{
		// prefix [0.5 0 0 2 0 0 1] pooled alone; window [9 4 3] pooled alone
		{window: 3, kernel: 3, want: []float32{0.5, 0.5, 2, 2, 2, 1, 1, 9, 9, 4}},
		{window: 3, kernel: 7, want: []float32{2, 2, 2, 2, 2, 2, 2, 9, 9, 9}},
		{window: 0, kernel: 3, want: []float32{0.5, 0.5, 2, 2, 2, 1, 9, 9, 9, 4}},
		{window: 20, kernel: 1, want: obs},
	}
	for _, tc := range tests {
		got := SnapKVScores(nil, obs, tc.window, tc.kernel)
		if !slices.Equal(got, tc.want) {
			t.Errorf("SnapKVScores(window %d, kernel %d) = %v, want %v", tc.window, tc.kernel, got, tc.want)
		}
	}
}

// TestSnapKVKeep runs the prompt compression end to end on a small prompt:
// the pooled scores choose the heavy hitters, the window is kept.
func TestSnapKVKeep(t *testing.T) {
	obs := []float32{0.9, 0, 0, 0, 0.3, 0, 0, 0, 0, 0.2, 0, 0, 0.5, 0.5}
	pooled := SnapKVScores(nil, obs, 2, 3)
	got := Keep(nil, seq(0, len(obs)), pooled, LayerBudget{Sink: 1, Window: 2, Heavy: 3})
	// pooled prefix: [.9 .9 0 .3 .3 .3 0 0 .2 .2 .2 0]; heavy picks 1 (0.9), then 3, 4 (0.3, earliest)
	want := []int{0, 1, 3, 4, 12, 13}
	if !slices.Equal(got, want) {
		t.Fatalf("keep = %v, want %v", got, want)
	}
}

func TestSnapKVScoresAllocs(t *testing.T) {
	obs := make([]float32, 4096)
	for i := range obs {
		obs[i] = float32(i % 17)
	}
	dst := SnapKVScores(nil, obs, 32, 7)
	allocs := testing.AllocsPerRun(20, func() {
		dst = SnapKVScores(dst, obs, 32, 7)
	})
	if allocs != 0 || len(dst) != len(obs) {
		t.Fatalf("SnapKVScores: %v allocations, %d scores", allocs, len(dst))
	}
}
