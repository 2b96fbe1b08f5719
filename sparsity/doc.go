// Package sparsity decides which KV-cache slots a sequence keeps under a
// token budget: the eviction policies, their per-layer budgets and profiles.
//
// It only decides. The cache stores the slots, accumulates their scores and
// frees blocks; this package reads slot positions and scores through the
// small [Slots] interface, which the cache satisfies, and says which slots
// to keep, and neither side knows the other's internals.
//
// # Flow
//
// A [Spec] (policy, budget, parameters, optional [Profile]) is parsed once
// per server and may be overridden per request. At admission the engine binds
// it to the model and the request with [Spec.Plan], which fixes one
// [LayerBudget] per layer. [Evictor] owns the rest of the lifecycle, for the
// engine and the benchmarks alike: [Evictor.Start] turns on scoring when a
// sequence (re)starts, and after each step [Evictor.Step] compresses a
// snapkv prompt once it is cached and, for every layer where [ShouldEvict]
// holds, ranks the slots ([RankScores]), picks the ones to keep ([Keep])
// and has the cache retain them, which compacts the layer and frees whole
// blocks.
//
// # Scores
//
// Keep decisions are per (sequence, layer), so a slot has one score, pooled
// over heads: the attention weights a query gives a slot are averaged over
// the query heads of each GQA group, then averaged over the KV heads. Each
// query therefore hands out a total of 1 over the slots it sees.
//
// For h2o, pyramid and the sparse layers of layered (heavy-hitter policies),
// a slot's score is the sum of these pooled weights over every query that
// has attended to it since it was cached: prompt queries during prefill,
// then one query per decode step. Averaging rather than summing over heads
// does not change any ranking; it keeps scores comparable across models and
// with the SnapKV scores below. Scores are carried along when the cache
// moves a slot, and are never reset.
//
// For snapkv the prompt is compressed once, after it is fully cached. The
// pooled weights of the last Obs prompt queries are summed per prompt slot
// (accumulated as the slots' scores), max-pooled over neighbouring positions ([SnapKVScores]), and
// ranked by Keep. The pooled values then become the slots' scores, and
// decoding continues like h2o.
//
// # Ranking
//
// Keep ranks by [RankScores], not by the raw scores: each score divided by
// the number of queries that added to it (the mean weight a query gave
// the slot, so that age does not outrank attention), then max-pooled over
// neighbouring positions, reaching [SpanAfter] positions back and
// [SpanBefore] forward, so that a fact is kept as a span (its key and the
// value tokens after it) rather than as its one most attended token.
//
// The `window` policy uses no scores.
package sparsity
