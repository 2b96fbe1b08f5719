package engine

import (
	"fmt"
	"math"
)

// Constraint restricts the tokens a request may generate (constrained
// decoding: package grammar builds them from JSON schemas, regular
// expressions and choices). A Constraint holds one request's position:
// never share one between requests.
type Constraint interface {
	// Mask sets to -Inf the logits of the tokens that may not follow
	// prev (the token before: the prompt's last one at first), and reports
	// whether any token is left.
	Mask(prev int32, logits []float32) bool
	// Accept advances past tok, which followed prev. done reports that the
	// output is complete and only a stop token could follow.
	Accept(prev, tok int32) (done bool, err error)
}

// constrainedSample samples q's next token from row under q's constraint:
// the row is masked first, and a token the sampler still picks from the
// masked set (rounding at the tail of the distribution) is replaced by the
// most likely allowed one. ok is false when the constraint allows nothing.
func constrainedSample(q *sequence, prev int32, row []float32) (tok int32, ok bool) {
	c := q.req.Constraint
	if c == nil {
		return q.sampler.Sample(row), true
	}
	if !c.Mask(prev, row) {
		return 0, false
	}
	tok = q.sampler.Sample(row)
	if math.IsInf(float64(row[tok]), -1) {
		tok = Argmax(row)
	}
	return tok, true
}

// constraintDone advances q's constraint past tok and reports whether the
// output is complete.
func constraintDone(q *sequence, prev, tok int32) (bool, error) {
	if q.req.Constraint == nil {
		return false, nil
	}
	done, err := q.req.Constraint.Accept(prev, tok)
	if err != nil {
		return false, fmt.Errorf("engine: constraint: token %d: %w", tok, err)
	}
	return done, nil
}
