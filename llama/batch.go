package llama

// Batch is the set of tokens one forward pass processes. Tokens of the same
// sequence appear in position order. Token i belongs to sequence Seq[i] (an id
// the Attention implementation understands) at absolute position Pos[i].
type Batch struct {
	Tokens []int32
	Pos    []int32
	Seq    []int32
	// Logits lists the batch indices whose next-token logits are wanted
	// (typically the last token of each sequence), in the order the logits
	// are returned.
	Logits []int32
}

// Len is the number of tokens in the batch.
func (b *Batch) Len() int { return len(b.Tokens) }

// Reset empties the batch, keeping its storage.
func (b *Batch) Reset() {
	b.Tokens, b.Pos, b.Seq, b.Logits = b.Tokens[:0], b.Pos[:0], b.Seq[:0], b.Logits[:0]
}

// Add appends one token; withLogits asks for its next-token logits.
func (b *Batch) Add(token, pos, seq int32, withLogits bool) {
	if withLogits {
		b.Logits = append(b.Logits, int32(len(b.Tokens)))
	}
	b.Tokens = append(b.Tokens, token)
	b.Pos = append(b.Pos, pos)
	b.Seq = append(b.Seq, seq)
}

// Attention stores keys and values and computes attention for one layer of
// a batch. Implementations own the KV cache layout.
type Attention interface {
	// Attend stores the batch's keys and values for layer (k and v hold
	// Len()×KVDim values with RoPE applied) and writes into out
	// (Len()×Heads×HeadDim) each token's causal attention over its
	// sequence: every cached entry of that sequence at a position up to and
	// including the token's own. q holds Len()×Heads×HeadDim values.
	Attend(layer int, b *Batch, q, k, v, out []float32)
}

// Observer sees intermediate state of the forward pass, for analysis tools
// (package analysis records the residual stream through it). It is called
// synchronously; a nil Observer costs nothing.
type Observer interface {
	// Residual is called after each layer with the residual stream
	// (Len()×Dim values, row i for batch token i). layer is -1 for the
	// token embeddings. x must not be retained or modified.
	Residual(layer int, b *Batch, x []float32)
}
