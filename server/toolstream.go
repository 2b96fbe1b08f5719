package server

import (
	"strings"

	"sieve/engine"
)

// toolStream holds back streamed text that may be a tool call: content
// goes out as it comes until a call may begin, the rest waits for the
// end, when it is parsed into calls (or, malformed, sent as content).
// Under a named tool choice, whose whole output is the call's arguments,
// the call goes out as it is written instead.
type toolStream struct {
	out    *toolOutput
	text   strings.Builder
	sent   int    // bytes of text already sent as content
	inCall bool   // a call has begun: everything from sent on waits
	named  string // the id of a named call whose first chunk went out
}

// feed adds generated text and returns the content that may go out now,
// and under a named tool choice the pieces of its call to send, each in
// a chunk of its own.
func (t *toolStream) feed(piece string) (string, []toolCall) {
	if !t.out.active() {
		return piece, nil
	}
	t.text.WriteString(piece)
	if t.out.plan.choice == choiceNamed {
		return "", t.namedPieces(piece)
	}
	if t.inCall {
		return "", nil
	}
	all := t.text.String()
	end := len(all)
	if i, partial := t.out.callStart(all[t.sent:]); i >= 0 {
		end, t.inCall = t.sent+i, !partial
	}
	content := all[t.sent:end]
	t.sent = end
	return content, nil
}

// namedPieces are the chunks of a named call for piece: first its index,
// id, type, name and empty arguments, then the arguments as they come.
func (t *toolStream) namedPieces(piece string) []toolCall {
	if piece == "" {
		return nil
	}
	var pieces []toolCall
	if t.named == "" {
		t.named = t.out.parser.newID()
		pieces = append(pieces, toolCall{Index: ptr(0), ID: t.named, Type: "function", Function: toolCallFunction{Name: t.out.plan.named}})
	}
	return append(pieces, toolCall{Index: ptr(0), Function: toolCallFunction{Arguments: piece}})
}

// finish parses what was held back once generation ended: the content
// still to send, the calls, and whether the answer is a tool call (its
// finish reason "tool_calls"): a named call that went out as it was
// written counts when its arguments came out whole.
func (t *toolStream) finish() (string, []toolCall, bool) {
	all := t.text.String()
	if t.out.active() && t.out.plan.choice == choiceNamed {
		_, calls := t.out.split(all)
		return "", nil, t.named != "" && calls != nil
	}
	rest := all[t.sent:]
	if !t.out.active() || !t.inCall {
		return rest, nil, false
	}
	_, calls := t.out.split(all)
	if calls == nil {
		return rest, nil, false
	}
	return "", calls, true
}

// sendToolTail streams the end of an answer whose text was held back:
// delta's content and rest as content, then each call the way OpenAI
// streams them, a first chunk with its index, id, type, function name and
// empty arguments, then a chunk with the arguments.
func sendToolTail(send func(chatOutput, []engine.TokenLogprobs, *string) error, delta chatOutput, rest string, calls []toolCall) error {
	if delta.Content != nil {
		rest = *delta.Content + rest
	}
	if rest != "" {
		if err := send(chatOutput{Content: &rest}, nil, nil); err != nil {
			return err
		}
	}
	for i, c := range calls {
		head := toolCall{Index: ptr(i), ID: c.ID, Type: c.Type, Function: toolCallFunction{Name: c.Function.Name}}
		if err := send(chatOutput{ToolCalls: []toolCall{head}}, nil, nil); err != nil {
			return err
		}
		args := toolCall{Index: ptr(i), Function: toolCallFunction{Arguments: c.Function.Arguments}}
		if err := send(chatOutput{ToolCalls: []toolCall{args}}, nil, nil); err != nil {
			return err
		}
	}
	return nil
}
