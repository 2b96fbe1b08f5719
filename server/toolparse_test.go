package server

import (
	"reflect"
	"strings"
	"testing"
)

// Outputs in the tool-call formats of Llama 3.1/3.2, Hermes-style
// fine-tunes (SmolLM2, Qwen 2.5) and Mistral, as those models write them,
// and malformed ones, which must come back as plain content.
func TestToolCallParsers(t *testing.T) {
	paris := parsedCall{name: "get_weather", arguments: `{"city":"Paris"}`}
	tests := []struct {
		parser  string
		output  string
		content string // when calls is nil, the whole output
		calls   []parsedCall
	}{
		{parserLlama3, `{"name": "get_weather", "parameters": {"city": "Paris"}}`, "", []parsedCall{paris}},
		{parserLlama3, `<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}`, "", []parsedCall{paris}},
		{parserLlama3, "\n {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}} ", "", []parsedCall{paris}},
		{parserLlama3, `{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"x": [1, 2]}}`, "",
			[]parsedCall{{"a", `{}`}, {"b", `{"x":[1,2]}`}}},
		{parserLlama3, `{"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}`, "", []parsedCall{paris}},
		{parserLlama3, `{"name": "now"}`, "", []parsedCall{{"now", `{}`}}},
		{parserLlama3, `The weather in Paris is sunny.`, "", nil},
		{parserLlama3, `{"name": "get_weather", "parameters": {"city": "Par`, "", nil},
		{parserLlama3, `{"city": "Paris"}`, "", nil},
		{parserLlama3, `{"name": "get_weather", "parameters": ["Paris"]}`, "", nil},
		{parserLlama3, `{"name": "get_weather", "parameters": {}} and then some`, "", nil},
		{parserLlama3, `Sure: {"name": "get_weather", "parameters": {}}`, "", nil},
		{parserHermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "", []parsedCall{paris}},
		{parserHermes, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "Let me check.", []parsedCall{paris}},
		{parserHermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", "",
			[]parsedCall{paris, {"get_time", `{}`}}},
		{parserHermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}", "", []parsedCall{paris}},
		{parserHermes, "<tool_call>\n{\"name\": get_weather}\n</tool_call>", "", nil},
		{parserHermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Pa", "", nil},
		{parserHermes, `{"name": "get_weather", "arguments": {"city": "Paris"}}`, "", nil},
		{parserHermes, "It is sunny in Paris.", "", nil},
		{parserMistral, `[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]`, "", []parsedCall{paris}},
		{parserMistral, `[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]`, "", []parsedCall{paris, {"get_time", `{}`}}},
		{parserMistral, `Checking. [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]`, "Checking.", []parsedCall{paris}},
		{parserMistral, `[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}`, "", []parsedCall{paris}},
		{parserMistral, `[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{}`, "", []parsedCall{paris, {"get_time", `{}`}}},
		{parserMistral, `[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}`, "", nil},
		{parserMistral, `[1, 2, 3]`, "", nil},
		{parserMistral, `{"name": "get_weather", "arguments": {"city": "Paris"}}`, "", nil},
		{parserMistral, `[TOOL_CALLS] {"name": "get_weather", "arguments": {"city": "Paris"}}`, "", []parsedCall{paris}},
		{parserMistral, `[TOOL_CALLS]get_weather[ARGS]{"city": `, "", nil},
		{parserMistral, `Paris is sunny [today].`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.parser+"/"+tt.output, func(t *testing.T) {
			p, err := newToolCallParser(tt.parser)
			if err != nil {
				t.Fatal(err)
			}
			content, calls := p.parse(tt.output)
			want := tt.content
			if tt.calls == nil {
				want = tt.output
			}
			if content != want || !reflect.DeepEqual(calls, tt.calls) {
				t.Errorf("parse = %q, %v; want %q, %v", content, calls, want, tt.calls)
			}
		})
	}
}

func TestToolCallStart(t *testing.T) {
	tests := []struct {
		parser, text string
		i            int
		partial      bool
	}{
		{parserLlama3, "", 0, true},
		{parserLlama3, "  ", 0, true},
		{parserLlama3, " {", 0, false},
		{parserLlama3, "<|python", 0, true},
		{parserLlama3, "Hello", -1, false},
		{parserHermes, "Let me check. <tool", 14, true},
		{parserHermes, "Let me check. <tool_call>{", 14, false},
		{parserHermes, "a < b", -1, false},
		{parserHermes, "a <", 2, true},
		{parserMistral, "", 0, true},
		{parserMistral, "[{", 0, false},
		{parserMistral, "ok [TOOL", 3, true},
		{parserMistral, "ok [TOOL_CALLS]", 3, false},
		{parserMistral, "Paris", -1, false},
	}
	for _, tt := range tests {
		p, _ := newToolCallParser(tt.parser)
		if i, partial := p.callStart(tt.text); i != tt.i || partial != tt.partial {
			t.Errorf("%s callStart(%q) = %d, %v; want %d, %v", tt.parser, tt.text, i, partial, tt.i, tt.partial)
		}
	}
}

func TestDetectParser(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{builtinTemplates["chatml"], parserHermes},
		{builtinTemplates["llama3"], parserLlama3},
		{builtinTemplates["llama2"], parserLlama3},
		{"{{ '[TOOL_CALLS]' }}", parserMistral},
		{"", parserLlama3},
	} {
		if got := detectParser(tt.src); got != tt.want {
			t.Errorf("detectParser(%.40q) = %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestCallIDs(t *testing.T) {
	for _, name := range []string{parserLlama3, parserHermes, parserMistral} {
		p, _ := newToolCallParser(name)
		a, b := p.newID(), p.newID()
		if a == b {
			t.Errorf("%s: two ids are both %q", name, a)
		}
		ok := strings.HasPrefix(a, "call_") && len(a) == 29
		if name == parserMistral {
			ok = len(a) == mistralIDChars && strings.Trim(a, idChars) == ""
		}
		if !ok {
			t.Errorf("%s: id %q has the wrong form", name, a)
		}
	}
}
