package engine

import (
	"slices"
)

// emit advances every sequence of the batch past the forward pass: it
// samples a token for those whose logits were computed, checks the stop
// conditions, and hands the output to the event channels.
func (e *Engine) emit(logits []float32) {
	s := &e.sched
	vocab := e.m.Config.VocabSize
	for _, w := range s.work {
		q := w.q
		q.computed += w.n
		e.register(q)
		if w.row < 0 {
			continue
		}
		if !q.prefilled {
			q.prefilled = true
			e.promptTokens.Add(int64(q.nPrompt))
		}
		row := logits[w.row*vocab : (w.row+1)*vocab]
		e.next(q, row)
	}
}

// next samples q's next token from row (which it may modify), records it
// and sends the step's output or the final event.
func (e *Engine) next(q *sequence, row []float32) {
	if n := len(q.req.Forced); n > 0 && (q.generated() < n || q.maxTokens == n) {
		e.force(q, row)
		return
	}
	var ev Event
	maskUndecodable(row, e.decodable)
	raw := row
	if q.req.Logprobs || q.req.ReturnLogits {
		raw = slices.Clone(row) // sampling may apply penalties to row
	}
	prev := q.tokens[len(q.tokens)-1]
	tok, ok := constrainedSample(q, prev, row)
	if !ok { // the constraint allows no token: as if out of room
		e.end(q, FinishLength, nil)
		return
	}
	q.sampler.Accept(tok)
	q.tokens = append(q.tokens, tok)
	e.genTokens.Add(1)
	if q.req.ReturnLogits {
		ev.Logits = [][]float32{raw}
	}
	if q.req.Logprobs {
		ev.Logprobs = []TokenLogprobs{logprobs(raw, tok, q.req.TopLogprobs, func(id int32) string { return e.text(prev, id) })}
	}
	ev.Tokens = []int32{tok}
	finish := FinishReason("")
	complete, err := constraintDone(q, prev, tok)
	switch {
	case err != nil:
		q.add(ev)
		e.end(q, FinishError, err)
		return
	case slices.Contains(q.stop, tok):
		finish = FinishStop
	case q.stream != nil:
		text, stopped := q.stream.Push(tok)
		ev.Text = text
		if stopped {
			finish = FinishStop
		}
	}
	if finish == "" && complete {
		finish = FinishStop
	}
	if finish == "" && (q.generated() >= q.maxTokens || len(q.tokens) >= e.m.Config.ContextLen) {
		finish = FinishLength
	}
	e.countKept(q)
	ev.Usage = q.usage()
	q.add(ev)
	if finish != "" {
		e.end(q, finish, nil)
		return
	}
	q.flush()
}

// force is next for a teacher-forced sequence: it feeds the next forced
// token, or ends the sequence once every forced token has been fed, the
// row then being the logits after the last one.
func (e *Engine) force(q *sequence, row []float32) {
	var ev Event
	if q.req.ReturnLogits {
		ev.Logits = [][]float32{slices.Clone(row)}
	}
	g := q.generated()
	if g == len(q.req.Forced) {
		q.add(ev)
		e.end(q, FinishLength, nil)
		return
	}
	prev, tok := q.tokens[len(q.tokens)-1], q.req.Forced[g]
	q.sampler.Accept(tok)
	q.tokens = append(q.tokens, tok)
	e.genTokens.Add(1)
	if q.req.Logprobs {
		ev.Logprobs = []TokenLogprobs{logprobs(row, tok, q.req.TopLogprobs, func(id int32) string { return e.text(prev, id) })}
	}
	ev.Tokens = []int32{tok}
	if q.stream != nil {
		ev.Text, _ = q.stream.Push(tok) // forced text runs past stop strings
	}
	e.countKept(q)
	ev.Usage = q.usage()
	q.add(ev)
	q.flush()
}

// text is the text of token id after prev, or "" without a tokenizer.
func (e *Engine) text(prev, id int32) string {
	if e.tok == nil {
		return ""
	}
	return string(e.tok.Piece(prev, id))
}
