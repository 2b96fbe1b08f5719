package engine

import (
	"fmt"
	"math"
)

// MaxLogitBias bounds a logit bias either way, as OpenAI does: -100
// practically bans a token and 100 practically forces it.
const MaxLogitBias = 100

// applyLogitBias adds each token's bias to its logit. The sampler calls it
// before penalties and truncation, so a banned token can never be drawn.
func applyLogitBias(logits []float32, bias map[int32]float32) {
	for t, b := range bias {
		logits[t] += b
	}
}

// checkLogitBias rejects a bias on a token outside the vocabulary or one
// that is not a finite number within ±MaxLogitBias.
func checkLogitBias(bias map[int32]float32, vocab int) error {
	for t, b := range bias {
		if t < 0 || int(t) >= vocab {
			return fmt.Errorf("%w: logit bias on token %d outside the vocabulary of %d", ErrBadRequest, t, vocab)
		}
		if math.IsNaN(float64(b)) || b < -MaxLogitBias || b > MaxLogitBias {
			return fmt.Errorf("%w: logit bias %g on token %d outside [-%d, %d]", ErrBadRequest, b, t, MaxLogitBias, MaxLogitBias)
		}
	}
	return nil
}
