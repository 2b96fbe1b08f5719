package server

import (
	"context"
	"strings"
	"testing"
)

// The built-in templates render tools, calls and results in the shapes
// of the formats they follow (Llama 3.1's JSON calls with ipython results,
// Hermes' <tool_call> and <tool_response> blocks), and the parser detected
// for each reads the calls they render back.
func TestBuiltinTemplatesRenderTools(t *testing.T) {
	tools := templateTools([]tool{{Type: "function", Function: toolFunction{Name: "get_weather",
		Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}})
	msgs := []message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "Weather in Paris?"},
		{Role: "assistant", ToolCalls: []toolCall{{ID: "call_1", Type: "function", Function: toolCallFunction{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
		{Role: "tool", Content: "sunny", ToolCallID: "call_1"},
	}
	tests := []struct {
		name      string
		contains  []string // in order
		callStart string   // the rendered assistant call begins here and ends at callEnd
		callEnd   string
	}{
		{"llama3", []string{
			"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.\n\n", `"name": "get_weather"`, "<|eot_id|>",
			"<|start_header_id|>user<|end_header_id|>\n\nWeather in Paris?<|eot_id|>",
			"<|start_header_id|>assistant<|end_header_id|>\n\n" + `{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>`,
			"<|start_header_id|>ipython<|end_header_id|>\n\nsunny<|eot_id|>",
			"<|start_header_id|>assistant<|end_header_id|>\n\n"},
			"<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"},
		{"chatml", []string{
			"<|im_start|>system\nBe brief.\n\n# Tools", "<tools>\n{", `"name": "get_weather"`, "</tools>", "<|im_end|>\n",
			"<|im_start|>user\nWeather in Paris?<|im_end|>\n",
			"<|im_start|>assistant\n\n<tool_call>\n" + `{"name": "get_weather", "arguments": {"city": "Paris"}}` + "\n</tool_call><|im_end|>\n",
			"<|im_start|>tool\n<tool_response>\nsunny\n</tool_response><|im_end|>\n",
			"<|im_start|>assistant\n"},
			"<|im_start|>assistant\n", "<|im_end|>"},
		{"llama2", []string{
			"<s>[INST] <<SYS>>\nBe brief.\n\n", `"name": "get_weather"`, "<</SYS>>\n\nWeather in Paris? [/INST]",
			` {"name": "get_weather", "parameters": {"city": "Paris"}} </s>`,
			"<s>[INST] Function result: sunny [/INST]"},
			"[/INST] ", " </s>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bos, eos := "<s>", "</s>"
			if tt.name == "llama3" {
				bos, eos = "<|begin_of_text|>", "<|eot_id|>"
			}
			tmpl, err := newJinjaTemplate(builtinTemplates[tt.name], bos, eos)
			if err != nil {
				t.Fatal(err)
			}
			out, err := tmpl.render(context.Background(), msgs, tools)
			if err != nil {
				t.Fatal(err)
			}
			rest := out
			for _, want := range tt.contains {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("rendered\n%s\nlacks, in order, %q", out, want)
				}
				rest = rest[i+len(want):]
			}
			// The first assistant turn is the call; the detected parser
			// must read it back.
			_, call, _ := strings.Cut(out, tt.callStart)
			call, _, _ = strings.Cut(call, tt.callEnd)
			p, _ := newToolCallParser(detectParser(builtinTemplates[tt.name]))
			if _, calls := p.parse(call); len(calls) != 1 || calls[0] != (parsedCall{"get_weather", `{"city":"Paris"}`}) {
				t.Errorf("parser reads %q as %v", call, calls)
			}
		})
	}
}

func TestBuiltinTemplatesWithoutToolsAreUnchanged(t *testing.T) {
	for name := range builtinTemplates {
		tmpl, err := newJinjaTemplate(builtinTemplates[name], "<s>", "</s>")
		if err != nil {
			t.Fatal(err)
		}
		out, err := tmpl.render(context.Background(), conversation, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "function") || strings.Contains(out, "tool") {
			t.Errorf("%s renders tool text without tools: %q", name, out)
		}
	}
}
