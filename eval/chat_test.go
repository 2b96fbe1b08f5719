package eval

import (
	"strings"
	"testing"
)

func TestPrompterSplitsAtTheQuestion(t *testing.T) {
	tok := needleTokenizer(t)
	chatml := `{%- for m in messages -%}{{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' -}}{%- endfor -%}` +
		`{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}`
	tests := []struct {
		name, src        string
		raw              bool
		wantCtx, wantQst string
	}{
		{"raw", "", false, "The fact is here.", " What is it?"},
		{"raw flag", chatml, true, "The fact is here.", " What is it?"},
		{"chat", chatml, false, "<|im_start|>user\nThe fact is here.", " What is it?<|im_end|>\n<|im_start|>assistant\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPrompter(tok, tt.src, tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			c, q, err := p.encode("The fact is here.", " What is it?")
			if err != nil {
				t.Fatal(err)
			}
			if c[0] != tok.BOS() {
				t.Errorf("context starts with %d, not BOS", c[0])
			}
			if got := tok.Decode(c); strings.TrimSpace(got) != tt.wantCtx {
				t.Errorf("context %q, want %q", got, tt.wantCtx)
			}
			if got := tok.Decode(q); strings.TrimSpace(got) != strings.TrimSpace(tt.wantQst) {
				t.Errorf("question %q, want %q", got, tt.wantQst)
			}
		})
	}
	if _, err := newPrompter(tok, "{% if %}", false); err == nil {
		t.Error("a broken template: no error")
	}
	drop := `{{- messages[0].content[:5] -}}`
	p, err := newPrompter(tok, drop, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.encode("The fact is here.", " What?"); err == nil {
		t.Error("a template that drops the question: no error")
	}
}
