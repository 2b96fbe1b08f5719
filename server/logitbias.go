package server

import (
	"strconv"

	"sieve/engine"
)

// logitBias converts the logit_bias field (token ids as strings, each to a
// bias) for the engine: biases are clamped to ±100 as OpenAI does, and a
// key that is not a token id of the vocabulary is a 400.
func logitBias(raw map[string]float64, vocab int) (map[int32]float32, *apiError) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[int32]float32, len(raw))
	for key, b := range raw {
		id, err := strconv.ParseInt(key, 10, 32)
		if err != nil || id < 0 || id >= int64(vocab) {
			return nil, badRequest("logit_bias", "logit_bias: %q is not a token id of the vocabulary [0, %d)", key, vocab)
		}
		out[int32(id)] = float32(min(max(b, -engine.MaxLogitBias), engine.MaxLogitBias))
	}
	return out, nil
}
