package server

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestChat(t *testing.T) {
	h := newHarness(t, Config{}, true)
	resp, body := h.post("/v1/chat/completions", map[string]any{
		"model": "test-model", "max_completion_tokens": 9, "max_tokens": 3,
		"messages": []map[string]any{
			{"role": "system", "content": "Be brief."},
			{"role": "user", "content": []map[string]string{{"type": "text", "text": "Hi"}, {"type": "text", "text": " there"}}},
		},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := decode[chatResponse](t, body)
	if !strings.HasPrefix(got.ID, "chatcmpl-") || got.Object != "chat.completion" || got.Model != "test-model" || got.Created == 0 {
		t.Errorf("header fields = %+v", got)
	}
	if len(got.Choices) != 1 || got.Choices[0].Message == nil || got.Choices[0].Message.Role != "assistant" ||
		deref(got.Choices[0].Message.Content) != "Hello world" || deref(got.Choices[0].FinishReason) != "stop" {
		t.Errorf("choices = %s", body)
	}
	if got.Usage == nil || got.Usage.TotalTokens != got.Usage.PromptTokens+3 {
		t.Errorf("usage = %+v", got.Usage)
	}
	req := h.gen.last()
	if want := "<s>system: Be brief.\nuser: Hi there\nassistant:"; spell(req.Prompt) != want {
		t.Errorf("prompt = %q, want %q (plain fallback)", spell(req.Prompt), want)
	}
	if req.MaxTokens != 9 {
		t.Errorf("max tokens = %d, want max_completion_tokens 9", req.MaxTokens)
	}
}

func TestChatTemplateTokenization(t *testing.T) {
	tests := []struct {
		name     string
		override string
		model    string
		want     string
	}{
		{"llama3 override renders BOS once, parsed as special", "llama3", "",
			"<s><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"chatml gets the model's BOS", "chatml", "", "<s><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
		{"model template with bos_token, no second BOS", "", "{{ bos_token }}[{{ messages[0].content }}]", "<s>[Hi]"},
		{"override beats the model's template", "chatml", "{{ bos_token }}X", "<s><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{ChatTemplate: tt.override}, false)
			h.ready(tt.model)
			resp, body := h.post("/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := spell(h.gen.last().Prompt); got != tt.want {
				t.Errorf("prompt = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChatStream(t *testing.T) {
	h := newHarness(t, Config{}, true)
	resp, body := h.post("/v1/chat/completions", map[string]any{
		"messages": []map[string]string{{"role": "user", "content": "Hi"}},
		"stream":   true, "stream_options": map[string]bool{"include_usage": true},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	events := sseEvents(t, body)
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("last event %q", events[len(events)-1])
	}
	chunks := make([]chatResponse, 0, len(events)-1)
	for _, data := range events[:len(events)-1] {
		chunks = append(chunks, decode[chatResponse](t, []byte(data)))
	}
	first := chunks[0]
	if len(first.Choices) != 1 || first.Choices[0].Delta == nil || first.Choices[0].Delta.Role != "assistant" {
		t.Errorf("first chunk %+v lacks delta.role", first)
	}
	var text strings.Builder
	var finish []string
	for i, c := range chunks {
		if !strings.HasPrefix(c.ID, "chatcmpl-") || c.ID != first.ID || c.Object != "chat.completion.chunk" {
			t.Errorf("chunk %d header %+v", i, c)
		}
		for _, ch := range c.Choices {
			if ch.Message != nil || ch.Delta == nil {
				t.Errorf("chunk %d choice has message or lacks delta", i)
				continue
			}
			if i > 0 && ch.Delta.Role != "" {
				t.Errorf("chunk %d repeats the role", i)
			}
			text.WriteString(deref(ch.Delta.Content))
			if ch.FinishReason != nil {
				finish = append(finish, *ch.FinishReason)
			}
		}
	}
	if strings.ReplaceAll(text.String(), "<null>", "") != "Hello world" || !slices.Equal(finish, []string{"stop"}) {
		t.Errorf("content %q, finish %v", text.String(), finish)
	}
	last := chunks[len(chunks)-1]
	if len(last.Choices) != 0 || last.Usage == nil || last.Usage.CompletionTokens != 3 {
		t.Errorf("usage chunk = %+v", last)
	}
}
