package server

import (
	"strings"
	"testing"
)

// Under a named tool choice the call streams as it is written: a first
// chunk naming it, then each piece of its arguments.
func TestNamedCallStreamsAsWritten(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
		called bool
	}{
		{"whole arguments", []string{`{"city": `, "", `"Paris"}`}, true},
		{"cut short", []string{`{"city": `, `"Pa`}, false},
		{"nothing written", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newToolCallParser(parserLlama3)
			s := &toolStream{out: &toolOutput{parser: p, plan: toolPlan{choice: choiceNamed, named: "get_weather",
				tools: []tool{{Type: "function", Function: toolFunction{Name: "get_weather"}}}}}}
			var sent []toolCall
			for _, piece := range tt.pieces {
				content, calls := s.feed(piece)
				if content != "" {
					t.Errorf("content %q under a named tool choice", content)
				}
				sent = append(sent, calls...)
			}
			rest, calls, called := s.finish()
			if rest != "" || calls != nil || called != tt.called {
				t.Errorf("finish = %q, %v, %v; want nothing more, called %v", rest, calls, called, tt.called)
			}
			if len(tt.pieces) == 0 {
				if len(sent) != 0 {
					t.Errorf("sent %+v for no output", sent)
				}
				return
			}
			head := sent[0]
			if head.Index == nil || *head.Index != 0 || !strings.HasPrefix(head.ID, "call_") || head.Type != "function" ||
				head.Function.Name != "get_weather" || head.Function.Arguments != "" {
				t.Errorf("first chunk %+v does not open the call", head)
			}
			var args strings.Builder
			for _, c := range sent[1:] {
				if c.ID != "" || c.Function.Name != "" || c.Index == nil || *c.Index != 0 {
					t.Errorf("later chunk %+v", c)
				}
				args.WriteString(c.Function.Arguments)
			}
			if want := strings.Join(tt.pieces, ""); args.String() != want {
				t.Errorf("arguments streamed as %q, want %q", args.String(), want)
			}
		})
	}
}
