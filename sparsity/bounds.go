package sparsity

// Bounds are the most slots each layer of one sequence can hold under a
// plan: what admission sets blocks aside against.
type Bounds struct {
	// Peak is, per layer, the most slots the layer ever holds.
	Peak []int
	// Steady is, per layer, the slots a sparse layer reaches while
	// decoding (its budget plus one block, the eviction hysteresis), or 0
	// for a dense layer.
	Steady []int
}

// Bounds returns the bounds of a sequence of total tokens, prompt of them
// prefilled in chunks of at most chunk tokens. A dense layer holds up to
// total. A sparse layer is compacted to its budget after every step that
// brings it to budget + one block (ShouldEvict), so before a step it holds
// at most budget + block - 1 slots, and a step adds at most one chunk. A
// policy that compresses after the prompt (snapkv) holds the whole prompt,
// and after a preemption the rest of the chunk that ends it, until then.
func (p *Plan) Bounds(prompt, total, chunk int) Bounds {
	b := Bounds{Peak: make([]int, len(p.Layers)), Steady: make([]int, len(p.Layers))}
	for l, lb := range p.Layers {
		b.Peak[l] = total
		if lb.Dense {
			continue
		}
		peak := lb.Budget() + p.BlockSize - 1 + chunk
		if p.AfterPrompt {
			peak = max(peak, prompt+chunk-1)
		}
		b.Peak[l] = min(total, peak)
		b.Steady[l] = min(total, lb.Budget()+p.BlockSize)
	}
	return b
}
