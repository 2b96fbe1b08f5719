package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestChatTemplateBounds(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		want  string // the rendering, when it succeeds
		limit bool   // stopped by a bound (errTemplateLimit)
		fails bool   // an error of another kind
	}{
		{"the recipe: range(100000000)", `{% for i in range(100000000) %}x{% endfor %}`, "", true, false},
		{"nested ranges share one budget", `{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}`, "", true, false},
		{"range over the whole int64 line", `{% for i in range(-9223372036854775808, 9223372036854775807) %}x{% endfor %}`, "", true, false},
		{"range with a negative step", `{% for i in range(10, 0, -3) %}{{ i }},{% endfor %}`, "10,7,4,1,", false, false},
		{"range with one argument", `{% for i in range(3) %}{{ i }}{% endfor %}`, "012", false, false},
		{"empty range", `{% for i in range(5, 5) %}x{% else %}none{% endfor %}`, "none", false, false},
		{"range at the budget", `{% for i in range(100000) %}{% endfor %}ok`, "ok", false, false},
		{"range step zero", `{{ range(1, 5, 0) }}`, "", false, true},
		{"range of a string", `{{ range('5') }}`, "", false, true},
		{"a panic in the library is an error", `{{ 'x' * -1 }}`, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := newJinjaTemplate(tt.src, "<s>", "</s>")
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.render(context.Background(), []message{{Role: "user", Content: "x"}}, nil)
			switch {
			case tt.limit:
				if !errors.Is(err, errTemplateLimit) {
					t.Errorf("err = %v, want a template limit", err)
				}
			case tt.fails:
				if err == nil || errors.Is(err, errTemplateLimit) {
					t.Errorf("err = %v, want a template error", err)
				}
			case err != nil || got != tt.want:
				t.Errorf("render = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestChatTemplateDeadlineAndCancel(t *testing.T) {
	tmpl, err := newJinjaTemplate(`{% for i in range(3) %}{{ i }}{% endfor %}`, "", "")
	if err != nil {
		t.Fatal(err)
	}
	msgs := []message{{Role: "user", Content: "x"}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tmpl.render(ctx, msgs, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: err = %v, want context.Canceled", err)
	}
	tmpl.timeout = time.Nanosecond
	if _, err := tmpl.render(context.Background(), msgs, nil); !errors.Is(err, errTemplateLimit) || !strings.Contains(err.Error(), "did not finish within") {
		t.Errorf("past the deadline: err = %v, want a template limit", err)
	}
	// Slots held by renderings that overran are not handed out again
	// until those end: a new rendering waits, then fails at its deadline.
	tmpl.timeout = 20 * time.Millisecond
	for range cap(tmpl.slots) {
		tmpl.slots <- struct{}{}
	}
	if _, err := tmpl.render(context.Background(), msgs, nil); !errors.Is(err, errTemplateLimit) || !strings.Contains(err.Error(), "slot") {
		t.Errorf("with every slot held: err = %v", err)
	}
	for range cap(tmpl.slots) {
		<-tmpl.slots
	}
	if got, err := tmpl.render(context.Background(), msgs, nil); err != nil || got != "012" {
		t.Errorf("after the slots are free: %q, %v", got, err)
	}
}

func TestCheckMacros(t *testing.T) {
	tests := []struct {
		name string
		src  string
		ok   bool
	}{
		{"no macros", hfLlama3Template, true},
		{"a macro called by name", `{% macro greet(n) %}hi {{ n }}{% endmacro %}{{ greet(messages[0].content) }}{{ greet ('x') }}`, true},
		{"the name in text and strings", `{% macro f() %}x{% endmacro %}f {{ 'f' }}{{ f() }}`, true},
		{"direct recursion", `{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}`, false},
		{"mutual recursion", `{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}`, false},
		{"an alias", `{% macro f() %}{{ g() }}{% endmacro %}{% set g = f %}{{ f() }}`, false},
		{"passed as a value", `{% macro f(x) %}{{ x(x) }}{% endmacro %}{{ f(f) }}`, false},
	}
	for _, tt := range tests {
		err := checkMacros(tt.src)
		if (err == nil) != tt.ok {
			t.Errorf("%s: checkMacros = %v, want ok %v", tt.name, err, tt.ok)
		}
		if _, err := newJinjaTemplate(tt.src, "", ""); (err == nil) != tt.ok {
			t.Errorf("%s: newJinjaTemplate = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestChatTemplateRecipes drives the runaway templates through the server:
// one that runs away at load is refused (an override) or replaced by the
// plain fallback (the model's); one that runs away on some input fails
// that request with a 500, and the server goes on serving.
func TestChatTemplateRecipes(t *testing.T) {
	const runaway = `{% for i in range(100000000) %}x{% endfor %}`
	dir := t.TempDir()
	if _, err := selectTemplate(writeTemp(t, dir, runaway), "", "<s>", "</s>", discardLog()); err == nil || !strings.Contains(err.Error(), "100000000") {
		t.Errorf("--chat-template with a runaway loop: err = %v", err)
	}
	if tmpl, err := selectTemplate("", runaway, "<s>", "</s>", discardLog()); err != nil || tmpl != (plainTemplate{}) {
		t.Errorf("a runaway model template: %T, %v; want the plain fallback", tmpl, err)
	}
	if _, err := selectTemplate(writeTemp(t, dir, `{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}`), "", "<s>", "</s>", discardLog()); err == nil {
		t.Error("--chat-template with a recursive macro was accepted")
	}

	h := newHarness(t, Config{}, false)
	h.ready(`{% if messages[0].content == 'boom' %}{% for i in range(100000000) %}x{% endfor %}{% endif %}{{ messages[0].content }}`)
	resp, body := h.post("/v1/chat/completions", `{"messages":[{"role":"user","content":"boom"}]}`)
	if e := errorOf(t, body); resp.StatusCode != http.StatusInternalServerError || e.Type != typeServer || deref(e.Code) != "chat_template_error" {
		t.Errorf("runaway rendering: %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.do(http.MethodGet, "/health", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("health after a runaway rendering: %d", resp.StatusCode)
	}
	if resp, body := h.post("/v1/chat/completions", `{"messages":[{"role":"user","content":"hello"}]}`); resp.StatusCode != http.StatusOK {
		t.Errorf("a normal chat after a runaway rendering: %d %s", resp.StatusCode, body)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
