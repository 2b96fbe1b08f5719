package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// message is one chat message as templates see it.
type message struct {
	Role    string
	Content string
	Name    string
}

// chatTemplate renders a conversation into the prompt text, ending with
// the opening of the assistant's turn.
type chatTemplate interface {
	render(ctx context.Context, msgs []message) (string, error)
}

// Built-in chat templates by name, in Jinja. Each renders BOS itself where
// the format has it.
var builtinTemplates = map[string]string{
	"llama2": `{%- if messages and messages[0].role == 'system' -%}
{%- set system = messages[0].content -%}{%- set turns = messages[1:] -%}
{%- else -%}{%- set system = '' -%}{%- set turns = messages -%}{%- endif -%}
{%- for m in turns -%}
{%- if m.role not in ['user', 'assistant'] or (m.role == 'user') != (loop.index0 % 2 == 0) -%}
{{- raise_exception('llama2 chat needs alternating user and assistant messages after an optional system message') -}}
{%- endif -%}
{%- if m.role == 'user' -%}
{%- set text = m.content -%}
{%- if loop.first and system -%}{%- set text = '<<SYS>>\n' + system + '\n<</SYS>>\n\n' + text -%}{%- endif -%}
{{- bos_token + '[INST] ' + (text | trim) + ' [/INST]' -}}
{%- else -%}
{{- ' ' + (m.content | trim) + ' ' + eos_token -}}
{%- endif -%}
{%- endfor -%}`,
	"llama3": `{%- for m in messages -%}
{%- if loop.first -%}{{- bos_token -}}{%- endif -%}
{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\n\n' + (m.content | trim) + '<|eot_id|>' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}{%- endif -%}`,
	"chatml": `{%- for m in messages -%}
{{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}`,
}

// jinjaTemplate is a compiled Jinja chat template.
type jinjaTemplate struct {
	t        *jinja.Template
	bos, eos string
	slots    chan struct{} // renderings in flight (see renderSlots)
	timeout  time.Duration // of one rendering
}

// newJinjaTemplate compiles src; bos and eos are the token texts it sees.
func newJinjaTemplate(src, bos, eos string) (*jinjaTemplate, error) {
	if err := checkMacros(src); err != nil {
		return nil, err
	}
	t, err := jinja.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("chat template: %w", err)
	}
	return &jinjaTemplate{t: t, bos: bos, eos: eos, slots: renderSlots(), timeout: templateTimeout}, nil
}

// render renders the conversation within the bounds of boundedRender.
func (j *jinjaTemplate) render(ctx context.Context, msgs []message) (string, error) {
	list := make([]any, len(msgs))
	for i, m := range msgs {
		mm := map[string]any{"role": m.Role, "content": m.Content}
		if m.Name != "" {
			mm["name"] = m.Name
		}
		list[i] = mm
	}
	out, err := boundedRender(ctx, j.slots, j.timeout, j.t, map[string]jinja.Value{
		"messages":              jinja.FromGoValue(list),
		"bos_token":             jinja.NewString(j.bos),
		"eos_token":             jinja.NewString(j.eos),
		"add_generation_prompt": jinja.NewBool(true),
	})
	if err != nil {
		return "", fmt.Errorf("chat template: %w", err)
	}
	return out, nil
}

// probe renders a one-message conversation to check the template at load
// time: a template that runs past the bounds for "hi" would fail every
// request.
func (j *jinjaTemplate) probe() error {
	_, err := j.render(context.Background(), []message{{Role: "user", Content: "hi"}})
	if errors.Is(err, errTemplateLimit) {
		return err
	}
	return nil
}

// plainTemplate is the fallback for models without a chat template: one
// "role: content" line per message, then "assistant:".
type plainTemplate struct{}

func (plainTemplate) render(_ context.Context, msgs []message) (string, error) {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	b.WriteString("assistant:")
	return b.String(), nil
}

// selectTemplate picks the chat template: override (a built-in name or a
// Jinja file), else the model's own, else the plain fallback (with a
// warning). A model template that does not compile also falls back.
func selectTemplate(override, fromModel, bos, eos string, log *slog.Logger) (chatTemplate, error) {
	if override != "" {
		src, ok := builtinTemplates[override]
		if !ok {
			b, err := os.ReadFile(override)
			if err != nil {
				return nil, fmt.Errorf("chat template %q is neither llama2, llama3, chatml nor a readable file: %w", override, err)
			}
			src = string(b)
		}
		t, err := newJinjaTemplate(src, bos, eos)
		if err == nil {
			err = t.probe()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", override, err)
		}
		log.Info("chat template", "source", override)
		return t, nil
	}
	if fromModel != "" {
		t, err := newJinjaTemplate(fromModel, bos, eos)
		if err == nil {
			err = t.probe()
		}
		if err == nil {
			log.Info("chat template", "source", "model")
			return t, nil
		}
		log.Warn("the model's chat template does not compile or does not finish; using the plain fallback (set one with --chat-template)", "err", err)
		return plainTemplate{}, nil
	}
	log.Warn("the model has no chat template; chat requests use the plain \"role: content\" fallback (set one with --chat-template)")
	return plainTemplate{}, nil
}
