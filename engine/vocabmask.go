package engine

import (
	"log/slog"
	"math"
)

// maskUndecodable sets the logits of the ids from decodable on to -Inf, so
// that a model whose embedding has more rows than its tokenizer has tokens
// (a padded vocabulary, or a mismatched tokenizer) never samples an id the
// tokenizer cannot decode. decodable <= 0 masks nothing.
func maskUndecodable(logits []float32, decodable int) {
	if decodable <= 0 {
		return
	}
	for i := decodable; i < len(logits); i++ {
		logits[i] = float32(math.Inf(-1))
	}
}

// decodableVocab returns the tokenizer's vocabulary size when it is
// smaller than the model's, after warning that the ids beyond it will never
// be sampled, and 0 otherwise. Padded vocabularies (an embedding rounded
// up past the tokenizer) are legitimate, so this is a warning, not an
// error.
func decodableVocab(model, tok int, log *slog.Logger) int {
	if tok >= model {
		return 0
	}
	log.Warn("the tokenizer has fewer tokens than the model's embedding has rows; the ids beyond the tokenizer are never sampled",
		"tokenizer_vocab", tok, "model_vocab", model)
	return tok
}
