// Package llama runs the Llama transformer forward pass over a batch of
// tokens from one or more sequences. It owns the weights-side math (norms,
// projections, RoPE, the feed-forward layer, logits); everything that touches
// cached keys and values is delegated to an Attention implementation, so the
// same forward pass serves a dense cache and the paged, sparse one.
package llama
