package server

import (
	"context"
	"encoding/json"
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
	// ToolCalls are an assistant message's calls; ToolCallID is the call a
	// tool message answers.
	ToolCalls  []toolCall
	ToolCallID string
}

// chatTemplate renders a conversation, with the tools the model may call
// (nil for none; see templateTools), into the prompt text, ending with the
// opening of the assistant's turn.
type chatTemplate interface {
	render(ctx context.Context, msgs []message, tools []any) (string, error)
}

// Built-in chat templates by name, in Jinja. Each renders BOS itself where
// the format has it.
var builtinTemplates = map[string]string{
	// llama2 puts tools in the system prompt and asks for Llama 3's JSON
	// calls; a tool result takes a user turn.
	"llama2": `{%- if messages and messages[0].role == 'system' -%}
{%- set system = messages[0].content -%}{%- set turns = messages[1:] -%}
{%- else -%}{%- set system = '' -%}{%- set turns = messages -%}{%- endif -%}
{%- set ns = namespace(prev='start', system=system) -%}
{%- if tools -%}
{%- if system -%}{%- set ns.system = system + '\n\n' -%}{%- endif -%}
{%- set ns.system = ns.system + '` + jsonCallInstruction + `' -%}
{%- for t in tools -%}{%- set ns.system = ns.system + '\n' + (t | tojson) -%}{%- endfor -%}
{%- endif -%}
{%- for m in turns -%}
{%- if not ((m.role == 'user' and ns.prev in ['start', 'assistant']) or (m.role == 'assistant' and ns.prev in ['user', 'tool']) or (m.role == 'tool' and ns.prev in ['assistant', 'tool'])) -%}
{{- raise_exception('llama2 chat needs alternating user and assistant messages after an optional system message (tool results after an assistant turn)') -}}
{%- endif -%}
{%- set ns.prev = m.role -%}
{%- if m.role == 'user' -%}
{%- set text = m.content -%}
{%- if loop.first and ns.system -%}{%- set text = '<<SYS>>\n' + ns.system + '\n<</SYS>>\n\n' + text -%}{%- endif -%}
{{- bos_token + '[INST] ' + (text | trim) + ' [/INST]' -}}
{%- elif m.role == 'tool' -%}
{{- bos_token + '[INST] Function result: ' + (m.content | trim) + ' [/INST]' -}}
{%- elif m.tool_calls is defined -%}
{{- ' ' -}}{%- for c in m.tool_calls -%}{%- if not loop.first -%}{{- '; ' -}}{%- endif -%}` + jsonCall + `{%- endfor -%}{{- ' ' + eos_token -}}
{%- else -%}
{{- ' ' + (m.content | trim) + ' ' + eos_token -}}
{%- endif -%}
{%- endfor -%}`,
	// llama3 follows Llama 3.1's JSON tool calls: the tools in a system
	// turn, calls as {"name": ..., "parameters": ...}, results as ipython.
	"llama3": `{%- if messages -%}{{- bos_token -}}{%- endif -%}
{%- if tools -%}
{{- '<|start_header_id|>system<|end_header_id|>\n\n' -}}
{%- if messages[0].role == 'system' -%}{{- (messages[0].content | trim) + '\n\n' -}}{%- endif -%}
{{- '` + jsonCallInstruction + `' -}}
{%- for t in tools -%}{{- '\n' + (t | tojson) -}}{%- endfor -%}
{{- '<|eot_id|>' -}}
{%- endif -%}
{%- for m in messages -%}
{%- if tools and loop.first and m.role == 'system' -%}
{%- elif m.role == 'tool' -%}
{{- '<|start_header_id|>ipython<|end_header_id|>\n\n' + (m.content | trim) + '<|eot_id|>' -}}
{%- elif m.tool_calls is defined -%}
{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
{%- for c in m.tool_calls -%}{%- if not loop.first -%}{{- '; ' -}}{%- endif -%}` + jsonCall + `{%- endfor -%}
{{- '<|eot_id|>' -}}
{%- else -%}
{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\n\n' + (m.content | trim) + '<|eot_id|>' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}{%- endif -%}`,
	// chatml follows the Hermes tool format: the tools in <tools></tools>
	// in the system turn, calls in <tool_call></tool_call>, results in
	// <tool_response></tool_response>.
	"chatml": `{%- if tools -%}
{{- '<|im_start|>system\n' -}}
{%- if messages[0].role == 'system' -%}{{- messages[0].content + '\n\n' -}}{%- endif -%}
{{- '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' -}}
{%- for t in tools -%}{{- '\n' + (t | tojson) -}}{%- endfor -%}
{{- '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' -}}
{%- endif -%}
{%- for m in messages -%}
{%- if tools and loop.first and m.role == 'system' -%}
{%- elif m.role == 'tool' -%}
{{- '<|im_start|>tool\n<tool_response>\n' + m.content + '\n</tool_response><|im_end|>\n' -}}
{%- elif m.tool_calls is defined -%}
{{- '<|im_start|>assistant\n' + m.content -}}
{%- for c in m.tool_calls -%}{{- '\n<tool_call>\n{"name": "' + c.function.name + '", "arguments": ' + (c.function.arguments | tojson) + '}\n</tool_call>' -}}{%- endfor -%}
{{- '<|im_end|>\n' -}}
{%- else -%}
{{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}`,
}

// Pieces of the built-in templates that ask for and write Llama 3's JSON
// tool calls.
const (
	jsonCallInstruction = `You have access to the following functions. To call a function, respond only with JSON in the format {"name": function name, "parameters": dictionary of argument name and its value}. Do not use variables.\n`
	jsonCall            = `{{- '{"name": "' + c.function.name + '", "parameters": ' + (c.function.arguments | tojson) + '}' -}}`
)

// jinjaTemplate is a compiled Jinja chat template.
type jinjaTemplate struct {
	t        *jinja.Template
	src      string // the template's source, for detectParser
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
	return &jinjaTemplate{t: t, src: src, bos: bos, eos: eos, slots: renderSlots(), timeout: templateTimeout}, nil
}

// render renders the conversation within the bounds of boundedRender.
func (j *jinjaTemplate) render(ctx context.Context, msgs []message, tools []any) (string, error) {
	list := make([]any, len(msgs))
	for i, m := range msgs {
		list[i] = m.templateValue()
	}
	data := map[string]jinja.Value{
		"messages":              jinja.FromGoValue(list),
		"bos_token":             jinja.NewString(j.bos),
		"eos_token":             jinja.NewString(j.eos),
		"add_generation_prompt": jinja.NewBool(true),
	}
	if tools != nil {
		data["tools"] = jinja.FromGoValue(tools)
	}
	out, err := boundedRender(ctx, j.slots, j.timeout, j.t, data)
	if err != nil {
		return "", fmt.Errorf("chat template: %w", err)
	}
	return out, nil
}

// probe renders a one-message conversation to check the template at load
// time: a template that runs past the bounds for "hi" would fail every
// request.
func (j *jinjaTemplate) probe() error {
	_, err := j.render(context.Background(), []message{{Role: "user", Content: "hi"}}, nil)
	if errors.Is(err, errTemplateLimit) {
		return err
	}
	return nil
}

// templateSource is t's Jinja source, or "" for the plain fallback.
func templateSource(t chatTemplate) string {
	if j, ok := t.(*jinjaTemplate); ok {
		return j.src
	}
	return ""
}

// plainTemplate is the fallback for models without a chat template: one
// "role: content" line per message, then "assistant:".
type plainTemplate struct{}

func (plainTemplate) render(_ context.Context, msgs []message, tools []any) (string, error) {
	var b strings.Builder
	if tools != nil {
		list, _ := json.Marshal(tools)
		fmt.Fprintf(&b, "tools: %s %s\n", strings.ReplaceAll(jsonCallInstruction, `\n`, ""), list)
	}
	for _, m := range msgs {
		content := m.Content
		for i, c := range m.ToolCalls {
			if i > 0 || content != "" {
				content += "; "
			}
			content += fmt.Sprintf(`{"name": %q, "parameters": %s}`, c.Function.Name, c.Function.Arguments)
		}
		fmt.Fprintf(&b, "%s: %s\n", m.Role, content)
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

// templateValue is the message as templates read it: role, content, and
// name, tool_calls and tool_call_id when set (templates test for the
// tool_calls key). A call's arguments are an object, as Hugging Face
// templates expect, or the string when it is not JSON.
func (m message) templateValue() map[string]any {
	mm := map[string]any{"role": m.Role, "content": m.Content}
	if m.Name != "" {
		mm["name"] = m.Name
	}
	if m.ToolCallID != "" {
		mm["tool_call_id"] = m.ToolCallID
	}
	if len(m.ToolCalls) > 0 {
		calls := make([]any, len(m.ToolCalls))
		for i, c := range m.ToolCalls {
			calls[i] = map[string]any{"id": c.ID, "type": "function", "function": map[string]any{
				"name": c.Function.Name, "arguments": jsonValue([]byte(c.Function.Arguments))}}
		}
		mm["tool_calls"] = calls
	}
	return mm
}
