package llama

import (
	"context"
	"fmt"
)

// Generate runs one sequence (id 0 of att) through the model: it prefills
// prompt in chunks of at most MaxTokens, then decodes up to maxNew tokens.
// choose picks each next token from the last position's logits; emit
// receives it and returns false to stop. Generation also stops at the
// model's context length.
func (r *Runner) Generate(ctx context.Context, att Attention, prompt []int32, maxNew int,
	choose func(logits []float32) int32, emit func(token int32) bool) error {
	if len(prompt) == 0 {
		return fmt.Errorf("llama: empty prompt")
	}
	var b Batch
	pos := 0
	for pos < len(prompt) {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(pos+r.max, len(prompt))
		b.Reset()
		for i := pos; i < end; i++ {
			b.Add(prompt[i], int32(i), 0, i == len(prompt)-1)
		}
		logits, err := r.Forward(&b, att)
		if err != nil {
			return err
		}
		pos = end
		if pos == len(prompt) {
			return r.decode(ctx, att, &b, logits, pos, maxNew, choose, emit)
		}
	}
	return nil
}

func (r *Runner) decode(ctx context.Context, att Attention, b *Batch, logits []float32, pos, maxNew int,
	choose func([]float32) int32, emit func(int32) bool) error {
	for n := 0; n < maxNew && pos < r.cfg.ContextLen; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		tok := choose(logits)
		if !emit(tok) || n+1 == maxNew || pos+1 >= r.cfg.ContextLen {
			return nil
		}
		b.Reset()
		b.Add(tok, int32(pos), 0, true)
		var err error
		if logits, err = r.Forward(b, att); err != nil {
			return err
		}
		pos++
	}
	return nil
}
