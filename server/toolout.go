package server

import (
	"encoding/json"
	"slices"
	"strings"

	"sieve/engine"
)

// toolOutput turns what the model wrote into tool calls as a request's
// tool plan asks: parsed in the model's format under "auto", the JSON
// that constrained decoding wrote under "required" or a named function.
type toolOutput struct {
	plan   toolPlan
	parser toolCallParser
}

// finishToolCalls is the finish reason of an answer that calls tools.
const finishToolCalls = "tool_calls"

// active reports whether the output may hold calls.
func (o *toolOutput) active() bool { return o != nil && o.plan.choice != choiceNone }

// split divides a finished output into its content (nil when there is
// none) and its calls. An output with no well-formed call of a declared
// function is all content.
func (o *toolOutput) split(text string) (*string, []toolCall) {
	if !o.active() {
		return &text, nil
	}
	content, parsed := "", []parsedCall(nil)
	switch o.plan.choice {
	case choiceAuto:
		content, parsed = o.parser.parse(text)
	case choiceRequired:
		parsed, _ = decodeCallArray(text)
	case choiceNamed:
		if args, ok := compactArgs([]byte(text)); ok && strings.TrimSpace(text) != "" {
			parsed = []parsedCall{{name: o.plan.named, arguments: args}}
		}
	}
	undeclared := func(c parsedCall) bool {
		return !slices.ContainsFunc(o.plan.tools, func(t tool) bool { return t.Function.Name == c.name })
	}
	if len(parsed) == 0 || slices.ContainsFunc(parsed, undeclared) {
		return &text, nil
	}
	if !o.plan.parallel {
		parsed = parsed[:1]
	}
	calls := make([]toolCall, len(parsed))
	for i, c := range parsed {
		calls[i] = toolCall{ID: o.parser.newID(), Type: "function", Function: toolCallFunction{Name: c.name, Arguments: c.arguments}}
	}
	if strings.TrimSpace(content) == "" {
		return nil, calls
	}
	return &content, calls
}

// callStart is the parser's callStart under "auto"; under "required" or
// a named function the whole output is the call.
func (o *toolOutput) callStart(text string) (int, bool) {
	if o.plan.choice == choiceAuto {
		return o.parser.callStart(text)
	}
	return 0, false
}

// decodeCallArray reads a JSON array of calls.
func decodeCallArray(text string) ([]parsedCall, bool) {
	var raws []json.RawMessage
	if json.Unmarshal([]byte(text), &raws) != nil {
		return nil, false
	}
	calls := make([]parsedCall, 0, len(raws))
	for _, raw := range raws {
		c, ok := decodeCall(string(raw))
		if !ok {
			return nil, false
		}
		calls = append(calls, c)
	}
	return calls, true
}

// toolStream holds back streamed text that may be a tool call: content
// goes out as it comes until a call may begin, the rest waits for the
// end, when it is parsed into calls (or, malformed, sent as content).
type toolStream struct {
	out    *toolOutput
	text   strings.Builder
	sent   int  // bytes of text already sent as content
	inCall bool // a call has begun: everything from sent on waits
}

// feed adds generated text and returns the content that may go out now.
func (t *toolStream) feed(piece string) string {
	if !t.out.active() {
		return piece
	}
	t.text.WriteString(piece)
	if t.inCall {
		return ""
	}
	all := t.text.String()
	end := len(all)
	if i, partial := t.out.callStart(all[t.sent:]); i >= 0 {
		end, t.inCall = t.sent+i, !partial
	}
	content := all[t.sent:end]
	t.sent = end
	return content
}

// finish parses what was held back once generation ended: the content
// still to send, and the calls.
func (t *toolStream) finish() (string, []toolCall) {
	all := t.text.String()
	rest := all[t.sent:]
	if !t.out.active() || !t.inCall {
		return rest, nil
	}
	_, calls := t.out.split(all)
	if calls == nil {
		return rest, nil
	}
	return "", calls
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

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
