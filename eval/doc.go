// Package eval measures what KV-cache sparsity costs in quality: it scores
// texts token by token through the engine's decode path, with eviction
// active, under each policy and budget, and compares the next-token
// distributions with those of the dense (full) cache.
//
// # Method
//
// A text is cut into windows of at most the model's context length, each
// starting with BOS. A window's BOS is the prompt and the rest of it is
// teacher-forced (engine.Request.Forced): one token per decode step, so
// every position is predicted by a decode step that sees only the slots
// the policy kept. (A single prefill of the whole window would attend over
// every token before anything is evicted and make every policy look free.)
//
// For each window and policy the engine returns the raw next-token logits
// of every step. From them, in float64:
//
//   - perplexity: exp of the mean negative log-likelihood of the window's
//     tokens over every scored position of every window;
//   - KL divergence KL(full ‖ policy) of the next-token distributions, in
//     nats, averaged over the same positions;
//   - top-1 agreement: the fraction of positions whose argmax equals the
//     argmax of full.
//
// [SlidingWindows] cuts a token stream instead into overlapping windows, as
// a sliding-window perplexity does (Hugging Face's stride, llama.cpp's
// chunks): each window scores only the positions the one before did not
// reach (DivergenceConfig.From), the rest being context.
// DivergenceConfig.Base takes the reference logits from another model (a
// quantized file against its original). Every eval fills a [Sweep]: a row
// per policy and budget with the loss relative to full, printed as a table,
// JSON and a plot.
//
// The greedy agreement runs full greedily for a number of tokens from a
// short prompt, teacher-forces that sequence under each policy, and counts
// the generated positions whose argmax matches full's.
//
// # Budgets
//
// A budget in (0, 1) is a fraction of the scored sequence (prompt plus
// forced tokens: the model's context length for a window that fills it),
// resolved by the engine as round(budget × length) tokens per layer; a
// whole number ≥ 1 is that many tokens per layer. A budget at least the
// sequence length evicts nothing. A layer is compacted to its budget once
// it holds a block more, so between compactions it holds up to
// BlockSize − 1 slots over the budget.
//
// Since the prompt is only BOS, snapkv's one-time prompt compression has
// nothing to rank, and snapkv scores like h2o with a recent window of its
// observation size.
//
// # Needle retrieval
//
// [Needles] measures what the policies keep of a prompt's facts: prompts of
// filler sentences with one needle, "The special magic number for WORD is
// N.", at a depth, ending with the question "What is the special magic
// number for WORD? The special magic number for WORD is" ([NeedleGenerator]
// builds them). Each is answered greedily through the engine, the path
// requests take when served, with the policy and budget set per request;
// it is retrieved when the first number in the answer is N ([Retrieved]).
// A fractional budget is of the prompt plus the answer tokens.
//
// # Generation tasks
//
// [Tasks] answers [TaskItem]s (a context, a question, a scoring) greedily
// through the engine: by default the context alone is the prompt,
// compressed before the question is seen, and the question is
// teacher-forced through decode over the slots the policy kept before the
// answer is generated (query-agnostic compression); TaskConfig.QuestionAware
// adds runs with the question in the prompt. [ReadLongBench] makes items of
// a LongBench data file, scored by its metrics ([TokenF1], [RougeL],
// [ClassAccuracy], [NumberShare], [EditSimilarity]); [RulerGenerator]
// makes RULER-style items scored by [MatchAll].
//
// Every run uses an F32 KV cache, so full reproduces the dense reference
// exactly and full against full gives KL 0 and agreement 1.
package eval
