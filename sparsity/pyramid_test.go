package sparsity

import (
	"slices"
	"testing"
)

func TestPyramidBudgetsExact(t *testing.T) {
	tests := []struct {
		layers, b, floor int
		frac             float64
		capacity         int
		want             []int
	}{
		{layers: 4, b: 10, floor: 1, frac: 0.05, want: []int{19, 13, 7, 1}},
		{layers: 3, b: 10, floor: 3, frac: 0.05, want: []int{17, 10, 3}},
		{layers: 4, b: 10, floor: 2, frac: 0.05, want: []int{18, 13, 7, 2}},
		{layers: 4, b: 100, floor: 1, frac: 0.5, want: []int{150, 117, 83, 50}},
		{layers: 3, b: 10, floor: 10, frac: 0.05, want: []int{10, 10, 10}},
		{layers: 3, b: 10, floor: 0, frac: 1, want: []int{10, 10, 10}},
		{layers: 1, b: 64, floor: 4, frac: 0.05, want: []int{64}},
		// The lowest layers cannot hold their share: the rest goes up,
		// in proportion to the shares of the layers that can (worked by hand:
		// 40 tokens, shares 19, 13, 7, 1; layer 0 holds 15, 25 left over 13,
		// 7, 1 puts layer 1 over 15 too, 10 left over 7, 1 is 8.75, 1.25).
		{layers: 4, b: 10, floor: 1, frac: 0.05, capacity: 15, want: []int{15, 15, 9, 1}},
		{layers: 4, b: 100, floor: 1, frac: 0.5, capacity: 120, want: []int{120, 120, 100, 60}},
		{layers: 3, b: 10, floor: 0, frac: 1, capacity: 10, want: []int{10, 10, 10}},
		{layers: 3, b: 10, floor: 0, frac: 0.05, capacity: 10, want: []int{10, 10, 10}},
	}
	for _, tc := range tests {
		capacity := tc.capacity
		if capacity == 0 {
			capacity = maxTokens
		}
		got := pyramidBudgets(tc.layers, tc.b, tc.floor, tc.frac, capacity)
		if !slices.Equal(got, tc.want) {
			t.Errorf("pyramidBudgets(%d, %d, %d, %v, %d) = %v, want %v", tc.layers, tc.b, tc.floor, tc.frac, tc.capacity, got, tc.want)
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
	}
}

// TestPyramidPlanFitsTheRequest checks that a pyramid never plans a layer
// over what the request can put in it, and that the slots its layers hold
// once the request is cached (a dense layer holds all of it) add up to at
// least the budget asked for, with at most a block over it per layer.
func TestPyramidPlanFitsTheRequest(t *testing.T) {
	tests := []struct {
		layers int
		budget float64
		req    int
	}{
		{layers: 4, budget: 0.9, req: 300},
		{layers: 4, budget: 0.5, req: 250},
		{layers: 8, budget: 0.75, req: 1000},
		{layers: 32, budget: 0.6, req: 4096},
		{layers: 2, budget: 0.95, req: 100},
	}
	const block = 16
	for _, tc := range tests {
		s := mustSpec(t, "pyramid", tc.budget, "")
		p, err := s.Plan(tc.layers, tc.req, block)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.resolve(tc.req)
		held := 0
		for l, lb := range p.Layers {
			if lb.Dense {
				held += tc.req
				continue
			}
			if lb.Budget() > tc.req {
				t.Fatalf("%v at %d tokens: layer %d budget %d over the request", s, tc.req, l, lb.Budget())
			}
			held += lb.Budget()
		}
		if held < tc.layers*b || held > tc.layers*(b+block) {
			t.Fatalf("%v at %d tokens: layers hold %d slots, want %d × %d (+ a block a layer): %v", s, tc.req, held, tc.layers, b, p.Layers)
		}
	}
}
