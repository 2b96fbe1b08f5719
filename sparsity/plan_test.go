package sparsity

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// uniform returns layers copies of lb.
func uniform(layers int, lb LayerBudget) []LayerBudget {
	out := make([]LayerBudget, layers)
	for i := range out {
		out[i] = lb
	}
	return out
}

// mustSpec parses a spec or fails the test.
func mustSpec(t *testing.T, policy string, budget float64, profile string) Spec {
	t.Helper()
	s, err := ParseSpec(policy, budget, profile)
	if err != nil {
		t.Fatalf("ParseSpec(%q, %v, %q): %v", policy, budget, profile, err)
	}
	return s
}

func TestPlan(t *testing.T) {
	dense := LayerBudget{Dense: true}
	sparse := LayerBudget{Sink: 4, Window: 256, Heavy: 764}
	small, err := LoadProfile("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		policy      string
		budget      float64
		profile     string
		layers, req int
		want        []LayerBudget
		afterPrompt bool
	}{
		{name: "full", policy: "full", budget: 64, layers: 4, req: 10000, want: uniform(4, dense)},
		{name: "window", policy: "window", budget: 512, layers: 4, req: 10000, want: uniform(4, LayerBudget{Sink: 4, Window: 508})},
		{name: "h2o", policy: "h2o", budget: 1024, layers: 3, req: 10000, want: uniform(3, sparse)},
		{name: "h2o, request length unknown", policy: "h2o", budget: 1024, layers: 3, want: uniform(3, sparse)},
		{name: "snapkv", policy: "snapkv", budget: 1024, layers: 2, req: 10000, want: uniform(2, LayerBudget{Sink: 4, Window: 32, Heavy: 988}), afterPrompt: true},
		{name: "fraction", policy: "h2o", budget: 0.25, layers: 2, req: 4000, want: uniform(2, LayerBudget{Sink: 4, Window: 250, Heavy: 746})},
		{name: "fraction rounds", policy: "window", budget: 0.1, layers: 1, req: 1004, want: uniform(1, LayerBudget{Sink: 4, Window: 96})},
		{name: "small fraction clamps sinks", policy: "h2o", budget: 0.1, layers: 1, req: 30, want: uniform(1, LayerBudget{Sink: 3})},
		{name: "tiny fraction keeps one", policy: "window", budget: 0.001, layers: 1, req: 100, want: uniform(1, LayerBudget{Sink: 1})},
		{name: "budget all sinks", policy: "h2o", budget: 4, layers: 1, req: 100, want: uniform(1, LayerBudget{Sink: 4})},
		{name: "layered default", policy: "layered", budget: 1024, layers: 5, req: 10000, want: []LayerBudget{dense, dense, sparse, sparse, sparse}},
		{name: "layered two layers", policy: "layered", budget: 1024, layers: 2, req: 10000, want: uniform(2, dense)},
		{name: "layered profile", profile: "testdata/small.json", layers: 12, req: 100000, want: small.Layers},
		{name: "budget plus a block over the request", policy: "h2o", budget: 100, layers: 2, req: 115, want: uniform(2, dense)},
		{name: "budget plus a block at the request", policy: "h2o", budget: 100, layers: 1, req: 116, want: uniform(1, LayerBudget{Sink: 4, Window: 25, Heavy: 71})},
		{name: "profile layers over the request", profile: "testdata/small.json", layers: 12, req: 700,
			want: append(uniform(10, dense), LayerBudget{Sink: 4, Window: 256, Heavy: 252}, LayerBudget{Sink: 4, Window: 252})},
		{name: "profile window-only layers need no scores", profile: "testdata/small.json", layers: 12, req: 400,
			want: append(uniform(11, dense), LayerBudget{Sink: 4, Window: 252})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSpec(t, tc.policy, tc.budget, tc.profile)
			p, err := s.Plan(tc.layers, tc.req, 16)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if !slices.Equal(p.Layers, tc.want) {
				t.Fatalf("layers = %v, want %v", p.Layers, tc.want)
			}
			if p.AfterPrompt != tc.afterPrompt || p.BlockSize != 16 || p.Policy != s.Policy {
				t.Fatalf("plan = %+v, want after prompt %v", p, tc.afterPrompt)
			}
			if tc.afterPrompt != (p.Observe == DefaultObs && p.Kernel == DefaultKernel) {
				t.Fatalf("observe %d, kernel %d for policy %s", p.Observe, p.Kernel, p.Policy)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	h2o := Spec{Policy: H2O, Budget: 64, Sink: 4}
	tests := []struct {
		name                   string
		spec                   Spec
		layers, req, blockSize int
		wantErr                string
	}{
		{name: "no layers", spec: h2o, layers: 0, req: 100, blockSize: 16, wantErr: "0 layers"},
		{name: "no block size", spec: h2o, layers: 2, req: 100, blockSize: 0, wantErr: "block size 0"},
		{name: "negative request", spec: h2o, layers: 2, req: -1, blockSize: 16, wantErr: "request of -1"},
		{name: "fraction without request", spec: Spec{Policy: H2O, Budget: 0.5}, layers: 2, blockSize: 16, wantErr: "needs the request length"},
		{name: "invalid spec", spec: Spec{Policy: Window, Budget: -2}, layers: 2, req: 100, blockSize: 16, wantErr: "negative"},
		{name: "profile layer count", spec: mustSpec(t, "layered", 0, "testdata/small.json"), layers: 16, req: 100, blockSize: 16, wantErr: "has 12 layers, the model 16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.spec.Plan(tc.layers, tc.req, tc.blockSize)
			if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Plan error = %v, want ErrBadSpec containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestPlanNeverEvicts checks that full, or a budget of at least the request
// length, gives a plan under which no layer is ever compacted.
func TestPlanNeverEvicts(t *testing.T) {
	const req, layers, bs = 300, 6, 16
	tests := []struct {
		policy string
		budget float64
	}{
		{policy: "full"},
		{policy: "full", budget: 8},
		{policy: "window", budget: req},
		{policy: "h2o", budget: req},
		{policy: "h2o", budget: 100 * req},
		{policy: "snapkv", budget: req},
		{policy: "pyramid", budget: req},
		{policy: "layered", budget: req},
		{policy: "h2o", budget: 0.999},
	}
	for _, tc := range tests {
		s := mustSpec(t, tc.policy, tc.budget, "")
		p, err := s.Plan(layers, req, bs)
		if err != nil {
			t.Fatalf("%v: Plan: %v", s, err)
		}
		if !p.Dense() {
			t.Errorf("%v: plan %v not dense", s, p.Layers)
		}
		for l := range layers {
			for n := 0; n <= req; n++ {
				if p.Evict(l, n) {
					t.Fatalf("%v: layer %d evicts at %d slots", s, l, n)
				}
			}
		}
	}
}

// TestPlanEvictsOverBudget checks the other side: a sparse plan compacts
// once a layer holds its budget plus a block.
func TestPlanEvictsOverBudget(t *testing.T) {
	p, err := mustSpec(t, "h2o", 64, "").Plan(2, 1000, 16)
	if err != nil {
		t.Fatal(err)
	}
	if p.Dense() || p.Evict(1, 79) || !p.Evict(1, 80) {
		t.Fatalf("plan %v: dense %v, evict at 79 %v, at 80 %v", p.Layers, p.Dense(), p.Evict(1, 79), p.Evict(1, 80))
	}
}
