package server

import (
	"strings"
	"testing"
)

// FuzzToolStream checks, for every parser and any output cut into any
// pieces, that streaming reads the same calls as reading the whole output
// does, and sends the same text as content (but for the spaces around it
// that the whole answer trims).
func FuzzToolStream(f *testing.F) {
	for _, seed := range []string{
		`{"name": "f", "parameters": {"a": 1}}`,
		`<|python_tag|>{"name": "f", "parameters": {}}; {"name": "g", "parameters": {"b": [1]}}`,
		"Let me see.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"x\"}}\n</tool_call>",
		`[TOOL_CALLS] [{"name": "g", "arguments": {}}]`,
		`[TOOL_CALLS]f[ARGS]{"a": 1}`,
		`{"name": "f", "parameters": {"a"`, "a < b <tool", "[1, 2]", "plain text", "",
	} {
		f.Add(seed, uint8(3), uint8(0))
	}
	tools := []tool{{Type: "function", Function: toolFunction{Name: "f"}}, {Type: "function", Function: toolFunction{Name: "g"}}}
	names := []string{parserLlama3, parserHermes, parserMistral}
	f.Fuzz(func(t *testing.T, output string, step, which uint8) {
		p, _ := newToolCallParser(names[int(which)%len(names)])
		out := &toolOutput{plan: toolPlan{tools: tools, choice: choiceAuto, parallel: true}, parser: p}
		wholeContent, wholeCalls := out.split(output)
		s := &toolStream{out: out}
		var streamed strings.Builder
		n := max(1, int(step))
		for i := 0; i < len(output); i += n {
			content, _ := s.feed(output[i:min(i+n, len(output))])
			streamed.WriteString(content)
		}
		rest, calls, _ := s.finish()
		streamed.WriteString(rest)
		if len(calls) != len(wholeCalls) {
			t.Fatalf("%s: streaming read %d calls, the whole output %d", p, len(calls), len(wholeCalls))
		}
		for i := range calls {
			if calls[i].Function != wholeCalls[i].Function {
				t.Errorf("call %d: streamed %+v, whole %+v", i, calls[i].Function, wholeCalls[i].Function)
			}
		}
		want := ""
		if wholeContent != nil {
			want = *wholeContent
		}
		if got := strings.TrimSpace(streamed.String()); got != strings.TrimSpace(want) {
			t.Errorf("streamed content %q, whole %q", got, want)
		}
	})
}
