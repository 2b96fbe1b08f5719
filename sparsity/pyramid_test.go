package sparsity

import (
	"slices"
	"testing"
)

func TestPyramidBudgetsExact(t *testing.T) {
	tests := []struct {
		layers, b, floor int
		frac             float64
		want             []int
	}{
		{layers: 4, b: 10, floor: 1, frac: 0.05, want: []int{19, 13, 7, 1}},
		{layers: 3, b: 10, floor: 3, frac: 0.05, want: []int{17, 10, 3}},
		{layers: 4, b: 10, floor: 2, frac: 0.05, want: []int{18, 13, 7, 2}},
		{layers: 4, b: 100, floor: 1, frac: 0.5, want: []int{150, 117, 83, 50}},
		{layers: 3, b: 10, floor: 10, frac: 0.05, want: []int{10, 10, 10}},
		{layers: 3, b: 10, floor: 0, frac: 1, want: []int{10, 10, 10}},
		{layers: 1, b: 64, floor: 4, frac: 0.05, want: []int{64}},
	}
	for _, tc := range tests {
		got := pyramidBudgets(tc.layers, tc.b, tc.floor, tc.frac)
		if !slices.Equal(got, tc.want) {
			t.Errorf("pyramidBudgets(%d, %d, %d, %v) = %v, want %v", tc.layers, tc.b, tc.floor, tc.frac, got, tc.want)
		}
	}
}

func TestPyramidPlan(t *testing.T) {
	tests := []struct {
		layers int
		budget float64
		window int
		top    float64
		req    int
	}{
		{layers: 12, budget: 1024, req: 1 << 20},
		{layers: 16, budget: 2048, window: 64, req: 1 << 20},
		{layers: 32, budget: 128, window: 8, req: 1 << 20},
		{layers: 7, budget: 1000, window: 1, top: 0.3, req: 1 << 20},
		{layers: 5, budget: 7, req: 1 << 20},
		{layers: 22, budget: 0.1, window: 16, req: 20000},
		{layers: 3, budget: 100, window: 96, req: 1 << 20},
		{layers: 2, budget: 50, top: 1, req: 1 << 20},
	}
	for _, tc := range tests {
		s := mustSpec(t, "pyramid", tc.budget, "")
		s.Window = tc.window
		if tc.top != 0 {
			s.PyramidTop = tc.top
		}
		p, err := s.Plan(tc.layers, tc.req, 16)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		b, _ := s.resolve(tc.req)
		sink, window := p.Layers[0].Sink, p.Layers[0].Window
		total := 0
		for l, lb := range p.Layers {
			if lb.Dense || lb.Sink != sink || lb.Window != window || lb.Heavy < 0 {
				t.Fatalf("%v: layer %d = %v, want sparse with sink %d, window %d", s, l, lb, sink, window)
			}
			if lb.Budget() < sink+window {
				t.Fatalf("%v: layer %d budget %d under sink+window %d", s, l, lb.Budget(), sink+window)
			}
			if l > 0 && lb.Budget() > p.Layers[l-1].Budget() {
				t.Fatalf("%v: budgets increase at layer %d: %v", s, l, p.Layers)
			}
			total += lb.Budget()
		}
		if total != tc.layers*b {
			t.Fatalf("%v: total %d, want %d × %d", s, total, tc.layers, b)
		}
		first, last := p.Layers[0].Budget(), p.Layers[tc.layers-1].Budget()
		if floor := max(sink+window, int(float64(b)*s.PyramidTop+0.999)); floor < b && first <= last {
			t.Fatalf("%v: no taper: %v", s, p.Layers)
		}
		if p.Accumulate != (last > sink+window || first > sink+window) {
			t.Fatalf("%v: accumulate %v with layers %v", s, p.Accumulate, p.Layers)
		}
	}
}
