package kvcache

// Slots is one sequence's view of the cache for eviction, with the layer
// as the only argument; it satisfies sparsity.Slots.
type Slots struct {
	c  *Cache
	id int32
}

// Slots returns the eviction view of sequence id.
func (c *Cache) Slots(id int32) Slots { return Slots{c: c, id: id} }

// Len is Cache.Len for the sequence.
func (s Slots) Len(layer int) int { return s.c.Len(s.id, layer) }

// Positions is Cache.Positions for the sequence.
func (s Slots) Positions(layer int, dst []int32) []int32 { return s.c.Positions(s.id, layer, dst) }

// Scores is Cache.Scores for the sequence.
func (s Slots) Scores(layer int, dst []float32) []float32 { return s.c.Scores(s.id, layer, dst) }

// SetScores is Cache.SetScores for the sequence.
func (s Slots) SetScores(layer int, scores []float32) { s.c.SetScores(s.id, layer, scores) }

// Retain is Cache.Retain for the sequence.
func (s Slots) Retain(layer int, keep []int) { s.c.Retain(s.id, layer, keep) }

// SetAccumulate is Cache.SetAccumulate for the sequence.
func (s Slots) SetAccumulate(layer int, from int32) { s.c.SetAccumulate(s.id, layer, from) }
