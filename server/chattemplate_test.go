package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The chat templates that Meta's Llama 3 Instruct and Llama 2 Chat
// tokenizer_config.json files carry (tokenizer.chat_template in GGUF).
const (
	hfLlama3Template = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
	hfLlama2Template = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
	// A Qwen-style ChatML template with a default system prompt.
	hfQwenTemplate = "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}{%- for message in messages %}{%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\") %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

var conversation = []message{
	{Role: "system", Content: "Be brief."},
	{Role: "user", Content: " Hi there "},
	{Role: "assistant", Content: "Hello!"},
	{Role: "user", Content: "Who are you?"},
}

const (
	wantLlama3 = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
		"<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>" +
		"<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>" +
		"<|start_header_id|>user<|end_header_id|>\n\nWho are you?<|eot_id|>" +
		"<|start_header_id|>assistant<|end_header_id|>\n\n"
	wantLlama2 = "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi there [/INST] Hello! </s><s>[INST] Who are you? [/INST]"
	wantChatML = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi there <|im_end|>\n" +
		"<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\n"
)

func TestChatTemplates(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		bos, eos string
		msgs     []message
		want     string
	}{
		{"hf llama3", hfLlama3Template, "<|begin_of_text|>", "<|eot_id|>", conversation, wantLlama3},
		{"builtin llama3", builtinTemplates["llama3"], "<|begin_of_text|>", "<|eot_id|>", conversation, wantLlama3},
		{"hf llama2", hfLlama2Template, "<s>", "</s>", conversation, wantLlama2},
		{"builtin llama2", builtinTemplates["llama2"], "<s>", "</s>", conversation, wantLlama2},
		{"builtin llama2 without system", builtinTemplates["llama2"], "<s>", "</s>", conversation[1:2], "<s>[INST] Hi there [/INST]"},
		{"builtin chatml", builtinTemplates["chatml"], "", "", conversation, wantChatML},
		{"hf qwen default system", hfQwenTemplate, "", "", conversation[1:2],
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n Hi there <|im_end|>\n<|im_start|>assistant\n"},
		{"negative index and name", "{{ messages[-1].role }}:{{ messages[-1].name }}", "", "", []message{{Role: "user", Content: "x", Name: "bob"}}, "user:bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := newJinjaTemplate(tt.src, tt.bos, tt.eos)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.render(context.Background(), tt.msgs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("rendered\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestChatTemplateRaises(t *testing.T) {
	tests := []struct {
		name string
		src  string
		msgs []message
	}{
		{"hf llama2, two user messages", hfLlama2Template, []message{{Role: "user", Content: "a"}, {Role: "user", Content: "b"}}},
		{"builtin llama2, two user messages", builtinTemplates["llama2"], []message{{Role: "user", Content: "a"}, {Role: "user", Content: "b"}}},
		{"builtin llama2, tool message", builtinTemplates["llama2"], []message{{Role: "user", Content: "a"}, {Role: "tool", Content: "b"}}},
		{"builtin llama2, assistant first", builtinTemplates["llama2"], []message{{Role: "assistant", Content: "a"}}},
	}
	for _, tt := range tests {
		tmpl, err := newJinjaTemplate(tt.src, "<s>", "</s>")
		if err != nil {
			t.Fatal(err)
		}
		if out, err := tmpl.render(context.Background(), tt.msgs, nil); err == nil {
			t.Errorf("%s: rendered %q without error", tt.name, out)
		}
	}
}

func TestPlainTemplate(t *testing.T) {
	got, err := plainTemplate{}.render(context.Background(), conversation[:2], nil)
	if want := "system: Be brief.\nuser:  Hi there \nassistant:"; err != nil || got != want {
		t.Errorf("plain = %q, %v; want %q", got, err, want)
	}
}

func TestSelectTemplate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t.jinja")
	if err := os.WriteFile(file, []byte("FILE{{ messages[0].content }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		override  string
		fromModel string
		want      string // rendering of one user message "x"
		wantErr   bool
		warns     bool
	}{
		{"builtin name", "chatml", "MODEL", "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n", false, false},
		{"file", file, "MODEL", "FILEx", false, false},
		{"missing file", filepath.Join(dir, "nope"), "", "", true, false},
		{"bad override syntax", writeTemp(t, dir, "{% for %}"), "", "", true, false},
		{"model template", "", "MODEL{{ messages[0].content }}", "MODELx", false, false},
		{"no template: plain fallback", "", "", "user: x\nassistant:", false, true},
		{"bad model template: plain fallback", "", "{% if %}", "user: x\nassistant:", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			tmpl, err := selectTemplate(tt.override, tt.fromModel, "<s>", "</s>", slog.New(slog.NewTextHandler(logs, nil)))
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.render(context.Background(), []message{{Role: "user", Content: "x"}}, nil)
			if err != nil || got != tt.want {
				t.Errorf("render = %q, %v; want %q", got, err, tt.want)
			}
			if warned := strings.Contains(logs.String(), "level=WARN"); warned != tt.warns {
				t.Errorf("warned = %v, want %v; logs:\n%s", warned, tt.warns, logs)
			}
		})
	}
}

func writeTemp(t *testing.T, dir, content string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "*.jinja")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
