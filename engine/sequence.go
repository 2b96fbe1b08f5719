package engine

import (
	"context"
)

// eventBuffer is the capacity of a request's event channel. The scheduler
// keeps one place free for the final event, so it never blocks on a send.
const eventBuffer = 16

// sequence is one request inside the engine. The scheduler goroutine owns
// every field after Submit hands it over.
type sequence struct {
	id        uint64 // arrival order; lower is older
	req       Request
	ctx       context.Context
	out       chan Event
	tokens    []int32 // prompt, then generated tokens
	nPrompt   int
	maxTokens int   // resolved: never 0
	computed  int   // tokens whose keys and values are in the cache
	cacheSeq  int32 // id in the KV cache; -1 when it holds nothing
	prefilled bool  // the prompt has been counted in the stats
	admitted  bool  // has fed tokens once: the prefix cache lookup is counted
	started   bool  // has fed tokens since its last admission
	cached    int   // prompt tokens attached from the prefix cache at the first admission
	sampler   *Sampler
	stream    *TextStream // nil without a tokenizer
	stop      []int32     // stop tokens
	pending   Event       // output not yet handed to the channel
	done      bool
	kv        kvState // KV sparsity plan and counters
}

// generated is the number of tokens generated so far.
func (q *sequence) generated() int { return len(q.tokens) - q.nPrompt }

// usage is the request's cumulative token counts.
func (q *sequence) usage() Usage {
	return Usage{PromptTokens: q.nPrompt, CompletionTokens: q.generated(), CachedTokens: q.cached, KVTokensKept: q.kv.kept, KVTokensEvicted: q.kv.evicted}
}

// add merges one step's output into the pending event.
func (q *sequence) add(ev Event) {
	p := &q.pending
	p.Tokens = append(p.Tokens, ev.Tokens...)
	p.Text += ev.Text
	p.Logprobs = append(p.Logprobs, ev.Logprobs...)
	p.Logits = append(p.Logits, ev.Logits...)
	p.Usage = ev.Usage
}

// flush hands the pending output to the channel if there is any and the
// channel has room beside the place kept for the final event. Output a
// slow reader has not taken yet coalesces into one larger event.
func (q *sequence) flush() {
	if q.done || (len(q.pending.Tokens) == 0 && q.pending.Text == "") {
		return
	}
	if len(q.out) < cap(q.out)-1 {
		q.out <- q.pending
		q.pending = Event{}
	}
}

// finish sends the final event, with any pending output, and closes the
// channel. It does nothing the second time.
func (q *sequence) finish(reason FinishReason, err error) {
	if q.done {
		return
	}
	q.done = true
	ev := q.pending
	q.pending = Event{}
	if q.stream != nil && reason != FinishError {
		ev.Text += q.stream.Flush()
	}
	ev.Finish, ev.Err, ev.Usage = reason, err, q.usage()
	q.out <- ev // never blocks: flush keeps a place free
	close(q.out)
}
