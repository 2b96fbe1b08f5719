// Package kvcache stores keys and values in fixed-size blocks taken from one
// shared pool and computes paged attention over them.
//
// A block holds BlockSize token slots of one layer: for each KV head, the
// keys of its slots back to back, then likewise the values, so attention
// reads each head's keys and values contiguously. Every slot also carries
// metadata: the token's true position and a score for the sparsity policy.
//
// Each sequence has one block table per layer, so layers may hold
// different numbers of slots once a policy compacts them. A block belongs
// to one layer; sequences share blocks by reference count.
//
// Prefix cache: full blocks are content-addressed by a hash chain over
// their tokens (BlockHash). Register enters a sequence's full blocks,
// which are immutable from then on; Attach gives a new sequence the
// longest cached run of blocks its tokens begin with. A cached block that
// no sequence holds stays in the pool, counted as free, until Reserve
// needs it (least recently released first). Retain copies a shared or
// cached block before it would rewrite it.
//
// Scores: a (sequence, layer) can accumulate into its slot scores the
// attention weights its queries give (SetAccumulate), for a sparsity
// policy to rank slots by; Retain then compacts a layer to the slots the
// policy keeps and frees whole blocks. The weights come from the
// attention pass itself, so scoring costs a little bookkeeping, never
// changes the output, and is paid only by the sequences that ask for it.
package kvcache
