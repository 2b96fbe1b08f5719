package serve

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sweep is a list of loads to run in turn, varying one knob.
type Sweep struct {
	Knob   string // "concurrency" or "rate"
	Values []float64
}

// ParseSweep reads "concurrency=1,2,4,8" or "rate=0.5,1,2,inf".
func ParseSweep(s string) (Sweep, error) {
	knob, list, ok := strings.Cut(s, "=")
	if !ok || (knob != "concurrency" && knob != "rate") {
		return Sweep{}, fmt.Errorf("--sweep %q: want concurrency=N,N or rate=R,R", s)
	}
	sw := Sweep{Knob: knob}
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		switch {
		case err != nil, v <= 0, knob == "concurrency" && (v != math.Trunc(v) || math.IsInf(v, 0)):
			return Sweep{}, fmt.Errorf("--sweep %q: %q is not a positive %s", s, f, knob)
		}
		sw.Values = append(sw.Values, v)
	}
	return sw, nil
}

// Apply returns base with the knob set to v.
func (s Sweep) Apply(base Load, v float64) Load {
	if s.Knob == "concurrency" {
		base.MaxConcurrency = int(v)
	} else {
		base.RequestRate = v
	}
	return base
}
