package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"sieve/engine"
)

const weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Weather of a city",
	"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}`

// sayPieces scripts the fake generator to write pieces, then stop.
func sayPieces(h *harness, pieces ...string) {
	h.gen.set(func(g *fakeGen) {
		g.script = func(r engine.Request) []engine.Event {
			var evs []engine.Event
			for i, p := range pieces {
				evs = append(evs, engine.Event{Tokens: []int32{'x'}, Text: p, Usage: engine.Usage{PromptTokens: len(r.Prompt), CompletionTokens: i + 1}})
			}
			return append(evs, engine.Event{Finish: engine.FinishStop, Usage: engine.Usage{PromptTokens: len(r.Prompt), CompletionTokens: len(pieces)}})
		}
	})
}

// toolHarness is a harness whose fake backend has room for tool
// definitions in its context (bytes are tokens there), with template.
func toolHarness(t *testing.T, template string) *harness {
	t.Helper()
	h := newHarness(t, Config{}, false)
	if err := h.srv.SetBackend(Backend{Generator: h.gen, Tokenizer: byteTok{}, ContextLen: 4096, ChatTemplate: template}); err != nil {
		t.Fatal(err)
	}
	return h
}

// toolRequest is a chat request about the weather with the weather tool.
func toolRequest(extra string) string {
	return `{"messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[` + weatherTool + `]` + extra + `}`
}

func TestAutoToolCallWhole(t *testing.T) {
	tests := []struct {
		name     string
		template string
		extra    string
		pieces   []string
		content  string // "<null>" for null
		calls    []toolCallFunction
		finish   string
	}{
		{"llama3 json", "", "", []string{`{"name": "get_weather", `, `"parameters": {"city": "Paris"}}`}, "<null>",
			[]toolCallFunction{{"get_weather", `{"city":"Paris"}`}}, "tool_calls"},
		{"hermes with text before", builtinTemplates["chatml"], "", []string{"Let me check.\n<tool_", "call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"},
			"Let me check.", []toolCallFunction{{"get_weather", `{"city":"Paris"}`}}, "tool_calls"},
		{"two calls", "", "", []string{`{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_weather", "parameters": {"city": "Oslo"}}`}, "<null>",
			[]toolCallFunction{{"get_weather", `{"city":"Paris"}`}, {"get_weather", `{"city":"Oslo"}`}}, "tool_calls"},
		{"parallel_tool_calls false keeps the first", "", `,"parallel_tool_calls":false`, []string{`{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_weather", "parameters": {"city": "Oslo"}}`}, "<null>",
			[]toolCallFunction{{"get_weather", `{"city":"Paris"}`}}, "tool_calls"},
		{"malformed call is content", "", "", []string{`{"name": "get_weather", "parameters": {"city"`}, `{"name": "get_weather", "parameters": {"city"`, nil, "stop"},
		{"undeclared function is content", "", "", []string{`{"name": "rm_rf", "parameters": {}}`}, `{"name": "rm_rf", "parameters": {}}`, nil, "stop"},
		{"plain answer", "", "", []string{"It is ", "sunny."}, "It is sunny.", nil, "stop"},
		{"tool_choice none is not parsed", "", `,"tool_choice":"none"`, []string{`{"name": "get_weather", "parameters": {}}`}, `{"name": "get_weather", "parameters": {}}`, nil, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := toolHarness(t, tt.template)
			sayPieces(h, tt.pieces...)
			resp, body := h.post("/v1/chat/completions", toolRequest(tt.extra))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var raw struct {
				Choices []struct {
					Message map[string]json.RawMessage `json:"message"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(body, &raw); err != nil || len(raw.Choices) != 1 {
				t.Fatalf("body %s: %v", body, err)
			}
			if _, ok := raw.Choices[0].Message["content"]; !ok {
				t.Errorf("message has no content key (OpenAI sends null): %s", body)
			}
			got := decode[chatResponse](t, body).Choices[0]
			if c := deref(got.Message.Content); c != tt.content {
				t.Errorf("content %q, want %q", c, tt.content)
			}
			if deref(got.FinishReason) != tt.finish {
				t.Errorf("finish_reason %q, want %q", deref(got.FinishReason), tt.finish)
			}
			if len(got.Message.ToolCalls) != len(tt.calls) {
				t.Fatalf("tool_calls %+v, want %d", got.Message.ToolCalls, len(tt.calls))
			}
			for i, c := range got.Message.ToolCalls {
				if c.Function != tt.calls[i] || c.Type != "function" || !strings.HasPrefix(c.ID, "call_") || c.Index != nil {
					t.Errorf("tool_calls[%d] = %+v, want function %+v", i, c, tt.calls[i])
				}
			}
		})
	}
}

// streamedChat collects a streamed chat answer: its content, its calls
// assembled from the deltas as OpenAI's clients assemble them, and its
// finish reason.
type streamedChat struct {
	content string
	calls   []toolCall
	finish  string
	heads   int // chunks that opened a call
}

func collectStream(t *testing.T, body []byte) streamedChat {
	t.Helper()
	var s streamedChat
	events := sseEvents(t, body)
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", events)
	}
	for _, ev := range events[:len(events)-1] {
		c := decode[chatResponse](t, []byte(ev))
		for _, ch := range c.Choices {
			if ch.FinishReason != nil {
				s.finish = *ch.FinishReason
			}
			if ch.Delta == nil {
				continue
			}
			if ch.Delta.Content != nil {
				s.content += *ch.Delta.Content
			}
			for _, d := range ch.Delta.ToolCalls {
				if d.Index == nil {
					t.Fatalf("tool call delta without index: %s", ev)
				}
				if *d.Index == len(s.calls) {
					if d.ID == "" || d.Type != "function" || d.Function.Name == "" || d.Function.Arguments != "" {
						t.Errorf("first chunk of a call %+v lacks id, type or name, or has arguments", d)
					}
					s.heads++
					s.calls = append(s.calls, toolCall{ID: d.ID, Type: d.Type, Function: toolCallFunction{Name: d.Function.Name}})
				} else if d.ID != "" || d.Function.Name != "" {
					t.Errorf("a later chunk of call %d repeats its id or name: %s", *d.Index, ev)
				}
				s.calls[*d.Index].Function.Arguments += d.Function.Arguments
			}
		}
	}
	return s
}

func TestAutoToolCallStreamed(t *testing.T) {
	tests := []struct {
		name     string
		template string
		pieces   []string
		content  string
		calls    []toolCallFunction
		finish   string
	}{
		{"llama3 json", "", []string{" ", `{"name": "get_weather", `, `"parameters": {"city": "Paris"}}`}, "",
			[]toolCallFunction{{"get_weather", `{"city":"Paris"}`}}, "tool_calls"},
		{"hermes: text before the call streams as content", builtinTemplates["chatml"],
			[]string{"Let me ", "check. <", "tool_call>\n{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"},
			"Let me check. ", []toolCallFunction{{"get_weather", `{"city":"Paris"}`}}, "tool_calls"},
		{"hermes: a lone < is content", builtinTemplates["chatml"], []string{"a <", " b"}, "a < b", nil, "stop"},
		{"malformed call streams as content at the end", "", []string{`{"name": `, `"get_weather"`}, `{"name": "get_weather"`, nil, "stop"},
		{"plain answer", "", []string{"It is ", "sunny."}, "It is sunny.", nil, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := toolHarness(t, tt.template)
			sayPieces(h, tt.pieces...)
			resp, body := h.post("/v1/chat/completions", toolRequest(`,"stream":true`))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := collectStream(t, body)
			if got.content != tt.content || got.finish != tt.finish || got.heads != len(tt.calls) || len(got.calls) != len(tt.calls) {
				t.Fatalf("streamed %+v, want content %q, %d calls, finish %q", got, tt.content, len(tt.calls), tt.finish)
			}
			for i, c := range got.calls {
				if c.Function != tt.calls[i] {
					t.Errorf("call %d assembled to %+v, want %+v", i, c.Function, tt.calls[i])
				}
			}
		})
	}
}

func TestToolConversationIsRendered(t *testing.T) {
	h := toolHarness(t, "")
	body := `{"tools":[` + weatherTool + `],"messages":[
		{"role":"user","content":"Weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"sunny"}]}`
	if resp, b := h.post("/v1/chat/completions", body); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	prompt := spell(h.gen.last().Prompt)
	for _, want := range []string{`"name":"get_weather"`, "user: Weather in Paris?\n",
		`assistant: {"name": "get_weather", "parameters": {"city": "Paris"}}` + "\n", "tool: sunny\n", "assistant:"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt %q lacks %q", prompt, want)
		}
	}
}

func TestToolRequestErrors(t *testing.T) {
	user := `{"role":"user","content":"hi"}`
	call := `{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]}`
	tests := []struct {
		name, body, param, contains string
	}{
		{"bad tool name", `{"messages":[` + user + `],"tools":[{"type":"function","function":{"name":"get weather"}}]}`, "tools[0].function.name", "letters"},
		{"empty tool name", `{"messages":[` + user + `],"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name", "letters"},
		{"tool not a function", `{"messages":[` + user + `],"tools":[{"type":"retrieval","function":{"name":"f"}}]}`, "tools[0].type", "function"},
		{"parameters not an object schema", `{"messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"string"}}}]}`, "tools[0].function.parameters", "object"},
		{"parameters not a schema", `{"messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f","parameters":[1]}}]}`, "tools[0].function.parameters", "JSON Schema object"},
		{"duplicate tool", `{"messages":[` + user + `],"tools":[` + weatherTool + `,` + weatherTool + `]}`, "tools[1].function.name", "already"},
		{"tool_choice names an unknown function", `{"messages":[` + user + `],"tools":[` + weatherTool + `],"tool_choice":{"type":"function","function":{"name":"get_time"}}}`, "tool_choice", "get_time"},
		{"tool_choice without tools", `{"messages":[` + user + `],"tool_choice":"required"}`, "tool_choice", "needs tools"},
		{"tool_choice unknown word", `{"messages":[` + user + `],"tools":[` + weatherTool + `],"tool_choice":"always"}`, "tool_choice", "always"},
		{"tool_choice malformed object", `{"messages":[` + user + `],"tools":[` + weatherTool + `],"tool_choice":{"name":"get_weather"}}`, "tool_choice", `{"type": "function"`},
		{"tool message without id", `{"messages":[` + user + `,` + call + `,{"role":"tool","content":"x"}]}`, "messages[2].tool_call_id", "without tool_call_id"},
		{"tool message answering no call", `{"messages":[` + user + `,` + call + `,{"role":"tool","tool_call_id":"call_2","content":"x"}]}`, "messages[2].tool_call_id", "call_2"},
		{"tool message before its call", `{"messages":[` + user + `,{"role":"tool","tool_call_id":"call_1","content":"x"},` + call + `]}`, "messages[1].tool_call_id", "call_1"},
		{"tool_calls on a user message", `{"messages":[{"role":"user","content":"x","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "messages[0].tool_calls", "assistant"},
		{"tool call without id", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "messages[1].tool_calls[0].id", "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := toolHarness(t, "")
			resp, body := h.post("/v1/chat/completions", tt.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			e := errorOf(t, body)
			if deref(e.Param) != tt.param || !strings.Contains(e.Message, tt.contains) {
				t.Errorf("error param %q message %q; want param %q containing %q", deref(e.Param), e.Message, tt.param, tt.contains)
			}
		})
	}
}

func TestConstrainedToolChoiceRefusesAnotherConstraint(t *testing.T) {
	h := toolHarness(t, "")
	for _, choice := range []string{`"required"`, `{"type":"function","function":{"name":"get_weather"}}`} {
		resp, body := h.post("/v1/chat/completions", toolRequest(`,"tool_choice":`+choice+`,"response_format":{"type":"json_object"}`))
		if e := errorOf(t, body); resp.StatusCode != 400 || deref(e.Param) != "tool_choice" {
			t.Errorf("tool_choice %s with response_format: status %d, %+v; want a 400 naming tool_choice", choice, resp.StatusCode, e)
		}
	}
}

func TestConstrainedToolChoice(t *testing.T) {
	tests := []struct {
		name, choice, output string
		want                 []toolCallFunction
	}{
		{"required", `"required"`, `[{"name": "get_weather", "parameters": {"city": "Paris"}}]`, []toolCallFunction{{"get_weather", `{"city":"Paris"}`}}},
		{"named", `{"type":"function","function":{"name":"get_weather"}}`, `{"city": "Paris"}`, []toolCallFunction{{"get_weather", `{"city":"Paris"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := toolHarness(t, "")
			sayPieces(h, tt.output)
			resp, body := h.post("/v1/chat/completions", toolRequest(`,"tool_choice":`+tt.choice))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := decode[chatResponse](t, body).Choices[0]
			if len(got.Message.ToolCalls) != 1 || got.Message.ToolCalls[0].Function != tt.want[0] || deref(got.FinishReason) != "tool_calls" {
				t.Errorf("choice %+v, want the call %+v", got, tt.want)
			}
			resp, body = h.post("/v1/chat/completions", toolRequest(`,"stream":true,"tool_choice":`+tt.choice))
			if resp.StatusCode != 200 {
				t.Fatalf("streamed: status %d: %s", resp.StatusCode, body)
			}
			streamed := collectStream(t, body)
			if len(streamed.calls) != 1 || streamed.finish != "tool_calls" || streamed.content != "" {
				t.Fatalf("streamed %+v, want one call", streamed)
			}
			if args, ok := compactArgs([]byte(streamed.calls[0].Function.Arguments)); !ok || args != tt.want[0].Arguments || streamed.calls[0].Function.Name != tt.want[0].Name {
				t.Errorf("streamed call %+v, want %+v", streamed.calls[0].Function, tt.want[0])
			}
		})
	}
}

func TestToolChoiceSchema(t *testing.T) {
	var f toolFields
	if err := json.Unmarshal([]byte(`{"tools":[`+weatherTool+`,{"type":"function","function":{"name":"now"}}],"tool_choice":"required","parallel_tool_calls":false}`), &f); err != nil {
		t.Fatal(err)
	}
	p, ae := f.plan()
	if ae != nil {
		t.Fatal(ae)
	}
	var schema struct {
		Type     string `json:"type"`
		MinItems int    `json:"minItems"`
		MaxItems *int   `json:"maxItems"`
		Items    struct {
			AnyOf []struct {
				Properties struct {
					Name       map[string]string `json:"name"`
					Parameters map[string]any    `json:"parameters"`
				} `json:"properties"`
				Required []string `json:"required"`
			} `json:"anyOf"`
		} `json:"items"`
	}
	if err := json.Unmarshal(p.schemaFor(), &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Type != "array" || schema.MinItems != 1 || schema.MaxItems == nil || *schema.MaxItems != 1 || len(schema.Items.AnyOf) != 2 {
		t.Fatalf("schema %s", p.schemaFor())
	}
	for i, name := range []string{"get_weather", "now"} {
		alt := schema.Items.AnyOf[i]
		if alt.Properties.Name["const"] != name || alt.Properties.Parameters["type"] != "object" || len(alt.Required) != 2 {
			t.Errorf("anyOf[%d] = %+v, want name const %q with an object schema", i, alt, name)
		}
	}
	p.parallel = true
	if strings.Contains(string(p.schemaFor()), "maxItems") {
		t.Errorf("parallel calls are capped: %s", p.schemaFor())
	}
	p.choice, p.named = choiceNamed, "get_weather"
	if got := string(p.schemaFor()); !strings.Contains(got, `"required":["city"]`) || strings.Contains(got, "anyOf") {
		t.Errorf("named schema %s is not get_weather's parameters", got)
	}
}
