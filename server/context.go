package server

import (
	"fmt"
	"log/slog"

	"sieve/engine"
	"sieve/model"
)

// lowerContext applies --max-model-len to the model before the engine is
// built, so that the default KV pool is sized for it. Like vLLM, it refuses
// a length beyond the model's own.
func lowerContext(m *model.Model, maxModelLen int) error {
	if maxModelLen == 0 {
		return nil
	}
	if maxModelLen > m.Config.ContextLen {
		return fmt.Errorf("--max-model-len %d is longer than the model's context length of %d tokens", maxModelLen, m.Config.ContextLen)
	}
	m.Config.ContextLen = maxModelLen
	return nil
}

// fitContext makes the served context length one that the KV pool can
// hold, so that every request the API invites (one without max_tokens
// included) fits. With --max-model-len given, a pool too small for it is
// an error naming both numbers, as vLLM refuses to start. Without it the
// context is lowered to what the pool holds, with a warning: the user did
// not ask for the model's full length, and Sieve's pool is often set
// small on purpose (--kv-cache-size), so refusing would make the default
// start fail where a shorter context serves well. The change is made
// before any request, so the engine and the API enforce the same length.
func fitContext(m *model.Model, eng *engine.Engine, opts Options, log *slog.Logger) error {
	fits := eng.MaxSequenceTokens()
	want := m.Config.ContextLen
	if fits >= want {
		return nil
	}
	pool := eng.Config().KVCacheMiB
	if opts.MaxModelLen > 0 {
		return fmt.Errorf("--max-model-len %d does not fit the KV cache: a %d MiB pool holds at most %d tokens of one sequence; raise --kv-cache-size or lower --max-model-len to %d or less",
			want, pool, fits, fits)
	}
	if fits < 1 {
		return fmt.Errorf("the KV cache of %d MiB cannot hold one block per layer of a sequence; raise --kv-cache-size", pool)
	}
	log.Warn("the KV cache holds less than the model's context; serving a shorter context (raise --kv-cache-size, or set --max-model-len to choose)",
		"model_context", want, "max_model_len", fits, "kv_cache_mib", pool)
	m.Config.ContextLen = fits
	return nil
}
