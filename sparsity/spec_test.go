package sparsity

import (
	"errors"
	"io/fs"
	"math"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		budget  float64
		profile string
		want    Policy
		wantErr string // substring; "" means success
	}{
		{name: "empty is full", want: Full},
		{name: "full ignores a budget", policy: "full", budget: 1024, want: Full},
		{name: "case and spaces", policy: " H2O ", budget: 1024, want: H2O},
		{name: "window", policy: "window", budget: 512, want: Window},
		{name: "fraction", policy: "snapkv", budget: 0.25, want: SnapKV},
		{name: "pyramid", policy: "pyramid", budget: 256, want: Pyramid},
		{name: "layered default profile", policy: "layered", budget: 1024, want: Layered},
		{name: "profile implies layered", profile: "testdata/small.json", want: Layered},
		{name: "layered with profile", policy: "layered", profile: "testdata/small.json", budget: 0.5, want: Layered},
		{name: "unknown policy", policy: "lru", budget: 10, wantErr: `unknown policy "lru"`},
		{name: "negative budget", policy: "h2o", budget: -1, wantErr: "negative"},
		{name: "NaN budget", policy: "h2o", budget: math.NaN(), wantErr: "not finite"},
		{name: "infinite budget", policy: "h2o", budget: math.Inf(1), wantErr: "not finite"},
		{name: "fractional tokens", policy: "h2o", budget: 100.5, wantErr: "whole number"},
		{name: "huge budget", policy: "h2o", budget: 1e12, wantErr: "over"},
		{name: "missing budget", policy: "h2o", wantErr: "needs a budget"},
		{name: "layered needs budget or profile", policy: "layered", wantErr: "needs a budget"},
		{name: "sinks over the budget", policy: "window", budget: 3, wantErr: "budget 3 is below the window policy's minimum of 5 tokens"},
		{name: "sinks over an h2o budget", policy: "h2o", budget: 3, wantErr: "budget 3 is below the h2o policy's minimum of 5 tokens"},
		{name: "derived window clamps", policy: "h2o", budget: 4, want: H2O},
		{name: "snapkv obs over the budget", policy: "snapkv", budget: 30, wantErr: "budget 30 is below the snapkv policy's minimum of 36 tokens (4 sink tokens + a window of 32)"},
		{name: "profile with another policy", policy: "h2o", budget: 64, profile: "testdata/small.json", wantErr: "needs policy layered"},
		{name: "missing profile", policy: "layered", profile: "testdata/none.json", wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSpec(tc.policy, tc.budget, tc.profile)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSpec error = %v, want ErrBadSpec containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSpec: %v", err)
			}
			if s.Policy != tc.want || s.Budget != tc.budget || s.Sink != DefaultSink || s.Obs != DefaultObs || s.Kernel != DefaultKernel {
				t.Fatalf("ParseSpec = %+v, want policy %s, budget %v and defaults", s, tc.want, tc.budget)
			}
			if (tc.profile != "") != (s.Profile != nil) {
				t.Fatalf("profile loaded = %v, want %v", s.Profile != nil, tc.profile != "")
			}
		})
	}
}

func TestDefaultSpec(t *testing.T) {
	s := DefaultSpec()
	want := Spec{Policy: Full, Sink: 4, Obs: 32, Kernel: 7, PyramidTop: 0.7}
	if s != want {
		t.Fatalf("DefaultSpec = %+v, want %+v", s, want)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("DefaultSpec does not validate: %v", err)
	}
	if parsed, err := ParseSpec("", 0, ""); err != nil || parsed != s {
		t.Fatalf("ParseSpec with no settings = %+v, %v; want DefaultSpec %+v", parsed, err, s)
	}
}

func TestParseSpecMissingProfileIsNotExist(t *testing.T) {
	_, err := ParseSpec("layered", 0, "testdata/none.json")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestValidateParams(t *testing.T) {
	base, err := ParseSpec("snapkv", 1024, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*Spec)
		wantErr string
	}{
		{name: "defaults", edit: func(*Spec) {}},
		{name: "no sinks", edit: func(s *Spec) { s.Sink = 0 }},
		{name: "negative sink", edit: func(s *Spec) { s.Sink = -1 }, wantErr: "sink -1"},
		{name: "negative window", edit: func(s *Spec) { s.Window = -2 }, wantErr: "window -2"},
		{name: "even kernel", edit: func(s *Spec) { s.Kernel = 6 }, wantErr: "odd"},
		{name: "zero kernel", edit: func(s *Spec) { s.Kernel = 0 }, wantErr: "odd"},
		{name: "no observation window", edit: func(s *Spec) { s.Obs = 0 }, wantErr: "observation window 0"},
		{name: "window under obs", edit: func(s *Spec) { s.Window = 16 }, wantErr: "shorter than its observation"},
		{name: "window over budget", edit: func(s *Spec) { s.Window = 1021 }, wantErr: "minimum of 1025 tokens"},
		{name: "window fills budget", edit: func(s *Spec) { s.Window = 1020 }},
		{name: "pyramid top zero", edit: func(s *Spec) { s.Policy, s.PyramidTop = Pyramid, 0 }, wantErr: "top fraction"},
		{name: "pyramid top over 1", edit: func(s *Spec) { s.Policy, s.PyramidTop = Pyramid, 1.5 }, wantErr: "top fraction"},
		{name: "bad policy", edit: func(s *Spec) { s.Policy = "dense" }, wantErr: "unknown policy"},
		{name: "bad profile", edit: func(s *Spec) { s.Policy, s.Profile = Layered, &Profile{} }, wantErr: "no layers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			err := s.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate error = %v, want ErrBadSpec containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	server, err := ParseSpec("layered", 0, "testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		base       Spec
		policy     string
		budget     float64
		wantPolicy Policy
		wantBudget float64
		wantErr    string
	}{
		{name: "nothing", base: server, wantPolicy: Layered},
		{name: "budget only", base: server, budget: 512, wantPolicy: Layered, wantBudget: 512},
		{name: "policy and fraction", base: server, policy: "h2o", budget: 0.2, wantPolicy: H2O, wantBudget: 0.2},
		{name: "dense request", base: server, policy: "full", wantPolicy: Full},
		{name: "policy needs a budget", base: server, policy: "window", wantErr: "needs a budget"},
		{name: "unknown policy", base: server, policy: "random", wantErr: "unknown policy"},
		{name: "bad budget", base: server, budget: -3, wantErr: "negative"},
		{name: "budget under sinks", base: server, policy: "window", budget: 2, wantErr: "minimum of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.base.Override(tc.policy, tc.budget)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Override error = %v, want ErrBadSpec containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Override: %v", err)
			}
			if s.Policy != tc.wantPolicy || s.Budget != tc.wantBudget || s.Profile != server.Profile {
				t.Fatalf("Override = %v (profile %p), want %s budget %v (profile %p)", s, s.Profile, tc.wantPolicy, tc.wantBudget, server.Profile)
			}
		})
	}
}

func TestParseBudget(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{in: "", want: 0},
		{in: "1024", want: 1024},
		{in: " 0.25 ", want: 0.25},
		{in: "1", want: 1},
		{in: "1.5", wantErr: true},
		{in: "-0.5", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "abc", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseBudget(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrBadSpec) {
				t.Errorf("ParseBudget(%q) error = %v, want ErrBadSpec", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBudget(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestSpecString(t *testing.T) {
	tests := []struct {
		policy string
		budget float64
		want   string
	}{
		{policy: "full", want: "full"},
		{policy: "h2o", budget: 1024, want: "h2o budget=1024 sink=4 window=auto"},
		{policy: "window", budget: 0.5, want: "window budget=0.5 sink=4"},
		{policy: "snapkv", budget: 512, want: "snapkv budget=512 sink=4 window=auto obs=32 kernel=7"},
	}
	for _, tc := range tests {
		s, err := ParseSpec(tc.policy, tc.budget, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
