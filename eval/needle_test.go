package eval

import (
	"context"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model/load"
)

// TestNeedleRetrievalUnderEviction runs each score-based policy at half
// the KV on short needle prompts through the engine: each must retrieve at
// least 95% of what full retrieves, so that a policy that loses its facts
// fails here. Window, which keeps only the sinks and the recent tokens,
// must do worse than full: otherwise the prompts would not test eviction.
func TestNeedleRetrievalUnderEviction(t *testing.T) {
	m, err := load.Open(testmodels.Path(t, "needle-1k/model.bin"), testmodels.Path(t, "needle-1k/tok.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := NeedleConfig{
		Lengths:  []int{250},
		Depths:   []float64{0.1, 0.3, 0.5, 0.7, 0.9},
		Samples:  2,
		Seed:     11,
		Policies: []string{"window", "h2o", "snapkv", "pyramid", "layered"},
		Budgets:  []float64{0.5},
		Threads:  2,
	}
	results, err := Needles(context.Background(), m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	full := results[0].ByLength(cfg.Lengths)[0]
	if full.Prompts != 10 || full.Retrieved < 9 {
		t.Fatalf("full retrieves %d of %d prompts; the model or the prompts are wrong", full.Retrieved, full.Prompts)
	}
	for _, r := range results[1:] {
		c := r.ByLength(cfg.Lengths)[0]
		t.Logf("%s at %v: %d of %d (full %d)", r.Policy, r.Budget, c.Retrieved, c.Prompts, full.Retrieved)
		if r.Policy == "window" {
			if c.Retrieved >= full.Retrieved {
				t.Errorf("window at %v retrieves %d, as many as full: the prompts do not need the needle kept", r.Budget, c.Retrieved)
			}
			continue
		}
		if float64(c.Retrieved) < 0.95*float64(full.Retrieved) {
			t.Errorf("%s at budget %v retrieves %d of %d prompts, full %d: under 95%%", r.Policy, r.Budget, c.Retrieved, c.Prompts, full.Retrieved)
		}
	}
}
