package server

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// toolFields are the tool-calling fields of a chat request.
type toolFields struct {
	Tools []tool `json:"tools"`
	// ToolChoice is "auto", "none", "required" or
	// {"type": "function", "function": {"name": ...}}.
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
}

// tool is one entry of the tools field.
type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

// toolFunction describes a function the model may call.
type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// toolCall is a call in an assistant message, or a piece of one in a
// stream (Index set, and ID, Type and Name only in its first piece).
type toolCall struct {
	Index    *int             `json:"index,omitempty"`
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function toolCallFunction `json:"function"`
}

// toolCallFunction is the function a call names and its arguments, a JSON
// object as a string.
type toolCallFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Tool choices.
const (
	choiceAuto     = "auto"
	choiceNone     = "none"
	choiceRequired = "required"
	choiceNamed    = "named"
)

// toolPlan is what a request's tool fields ask for, validated.
type toolPlan struct {
	tools    []tool
	choice   string // one of the choices above; none when there are no tools
	named    string // the function of choiceNamed
	parallel bool   // several calls in one answer may be returned
}

// toolName is OpenAI's rule for function names.
var toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// maxTools bounds the tools of a request.
const maxTools = 128

// plan validates the tool fields.
func (f *toolFields) plan() (toolPlan, *apiError) {
	p := toolPlan{tools: f.Tools, choice: choiceNone, parallel: f.ParallelToolCalls == nil || *f.ParallelToolCalls}
	if len(f.Tools) > maxTools {
		return p, badRequest("tools", "at most %d tools are supported, got %d", maxTools, len(f.Tools))
	}
	seen := map[string]bool{}
	for i, t := range f.Tools {
		param := fmt.Sprintf("tools[%d]", i)
		if t.Type != "function" {
			return p, badRequest(param+".type", "tools[%d].type must be \"function\", got %q", i, t.Type)
		}
		if !toolName.MatchString(t.Function.Name) {
			return p, badRequest(param+".function.name", "tools[%d].function.name %q must be 1 to 64 letters, digits, underscores or dashes", i, t.Function.Name)
		}
		if seen[t.Function.Name] {
			return p, badRequest(param+".function.name", "tools[%d]: a function named %q is already declared", i, t.Function.Name)
		}
		seen[t.Function.Name] = true
		if ae := checkParameters(t.Function.Parameters, param+".function.parameters"); ae != nil {
			return p, ae
		}
	}
	if len(f.Tools) > 0 {
		p.choice = choiceAuto
	}
	if len(f.ToolChoice) == 0 || isNull(f.ToolChoice) {
		return p, nil
	}
	var choice string
	if json.Unmarshal(f.ToolChoice, &choice) == nil {
		switch choice {
		case choiceNone:
			p.choice = choiceNone
			return p, nil
		case choiceAuto, choiceRequired:
		default:
			return p, badRequest("tool_choice", "tool_choice must be \"auto\", \"none\", \"required\" or a named function, got %q", choice)
		}
		if len(f.Tools) == 0 {
			return p, badRequest("tool_choice", "tool_choice %q needs tools", choice)
		}
		p.choice = choice
		return p, nil
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(f.ToolChoice, &named) != nil || named.Type != "function" || named.Function.Name == "" {
		return p, badRequest("tool_choice", "tool_choice must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}")
	}
	if !seen[named.Function.Name] {
		return p, badRequest("tool_choice", "tool_choice names the function %q, which is not among the tools", named.Function.Name)
	}
	p.choice, p.named = choiceNamed, named.Function.Name
	return p, nil
}

// checkParameters accepts an absent parameters field or a JSON Schema
// object that describes an object.
func checkParameters(raw json.RawMessage, param string) *apiError {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	var schema map[string]json.RawMessage
	if json.Unmarshal(raw, &schema) != nil {
		return badRequest(param, "%s must be a JSON Schema object, got %s", param, jsonKind(raw))
	}
	if t, ok := schema["type"]; ok {
		var typ string
		if json.Unmarshal(t, &typ) != nil || typ != "object" {
			return badRequest(param, "%s must describe an object (\"type\": \"object\"), got type %s", param, compactText(t))
		}
	}
	return nil
}

// compactText is raw JSON without insignificant spaces, cut short.
func compactText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// parameters is a function's parameters schema, {"type": "object",
// "properties": {}} when it declares none.
func (t tool) parameters() json.RawMessage {
	if len(t.Function.Parameters) == 0 || isNull(t.Function.Parameters) {
		return json.RawMessage(`{"type":"object","properties":{}}`)
	}
	return t.Function.Parameters
}

// templateTools returns the tools as chat templates see them (nil when
// there are none), or the 400 for invalid ones.
func (f *toolFields) templateTools() ([]any, *apiError) {
	if _, ae := f.plan(); ae != nil {
		return nil, ae
	}
	return templateTools(f.Tools), nil
}

// templateTools converts tools to the values templates read:
// {"type": "function", "function": {"name", "description", "parameters"}},
// parameters as an object.
func templateTools(tools []tool) []any {
	if len(tools) == 0 {
		return nil
	}
	out := make([]any, len(tools))
	for i, t := range tools {
		fn := map[string]any{"name": t.Function.Name, "parameters": jsonValue(t.parameters())}
		if t.Function.Description != "" {
			fn["description"] = t.Function.Description
		}
		out[i] = map[string]any{"type": "function", "function": fn}
	}
	return out
}

// jsonValue decodes raw into Go values for a template, or returns it as a
// string when it is not JSON.
func jsonValue(raw []byte) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return v
}

// schemaFor is the JSON Schema that constrained decoding holds the output
// to for a required or named tool choice, as vLLM builds it: for a named
// function its parameters; for required an array of 1 (or, with
// parallel_tool_calls, more) {"name": ..., "parameters": ...} objects, any
// of the tools.
func (p toolPlan) schemaFor() json.RawMessage {
	if p.choice == choiceNamed {
		for _, t := range p.tools {
			if t.Function.Name == p.named {
				return t.parameters()
			}
		}
	}
	anyOf := make([]any, len(p.tools))
	for i, t := range p.tools {
		anyOf[i] = map[string]any{
			"type": "object",
			"properties": map[string]any{
				"name":       map[string]any{"type": "string", "const": t.Function.Name},
				"parameters": json.RawMessage(t.parameters()),
			},
			"required":             []string{"name", "parameters"},
			"additionalProperties": false,
		}
	}
	schema := map[string]any{"type": "array", "items": map[string]any{"anyOf": anyOf}, "minItems": 1}
	if !p.parallel {
		schema["maxItems"] = 1
	}
	b, _ := json.Marshal(schema)
	return b
}

// checkToolMessage validates message i's tool fields: calls only on
// assistant messages, each with an id and a well-formed function name,
// and every tool message answering a call made earlier in the
// conversation. callIDs collects the ids of the calls seen.
func checkToolMessage(i int, m chatMessage, callIDs map[string]bool) *apiError {
	if len(m.ToolCalls) > 0 && m.Role != "assistant" {
		return badRequest(fmt.Sprintf("messages[%d].tool_calls", i), "messages[%d]: only assistant messages carry tool_calls, not %q", i, m.Role)
	}
	for j, c := range m.ToolCalls {
		param := fmt.Sprintf("messages[%d].tool_calls[%d]", i, j)
		switch {
		case c.ID == "":
			return badRequest(param+".id", "%s has no id", param)
		case c.Type != "" && c.Type != "function":
			return badRequest(param+".type", "%s.type must be \"function\", got %q", param, c.Type)
		case !toolName.MatchString(c.Function.Name):
			return badRequest(param+".function.name", "%s.function.name %q must be 1 to 64 letters, digits, underscores or dashes", param, c.Function.Name)
		}
		callIDs[c.ID] = true
	}
	if m.Role == "tool" && !callIDs[m.ToolCallID] {
		if m.ToolCallID == "" {
			return badRequest(fmt.Sprintf("messages[%d].tool_call_id", i), "messages[%d] is a tool message without tool_call_id", i)
		}
		return badRequest(fmt.Sprintf("messages[%d].tool_call_id", i), "messages[%d] answers the tool call %q, which no earlier assistant message made", i, m.ToolCallID)
	}
	return nil
}
