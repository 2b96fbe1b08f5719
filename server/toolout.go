package server

import (
	"encoding/json"
	"slices"
	"strings"
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

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
