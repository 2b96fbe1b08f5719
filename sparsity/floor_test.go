package sparsity

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckFloor(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		budget  float64
		request int
		want    string // in the error; "" for none
	}{
		{"full", "full", 0, 100, ""},
		{"tiny fraction", "h2o", 0.00001, 100, "minimum of 5"},
		{"fraction at the floor", "h2o", 0.05, 100, ""},
		{"fraction just below", "h2o", 0.04, 100, "fraction of at least 0.05"},
		{"window policy", "window", 0.01, 200, "minimum of 5"},
		{"whole budget covering the request", "h2o", 400, 100, ""},
		{"fraction of a short request is dense", "h2o", 0.5, 4, ""},
		{"snapkv fraction shrinks its window", "snapkv", 0.5, 65, ""},
		{"snapkv tiny fraction", "snapkv", 0.01, 300, "minimum of 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSpec(tt.policy, tt.budget, "")
			if err != nil {
				t.Fatal(err)
			}
			err = s.CheckFloor(tt.request)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckFloor(%d) = %v, want nil", tt.request, err)
			case tt.want != "" && (err == nil || !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckFloor(%d) = %v, want an ErrBadSpec containing %q", tt.request, err, tt.want)
			}
		})
	}
}
