package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestStructuredFieldsInstallAConstraint(t *testing.T) {
	h := newHarness(t, Config{}, true)
	schema := `{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`
	tests := []struct {
		path, body string
		want       bool
	}{
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":` + schema + `,"strict":true}}}`, true},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}`, true},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text"}}`, false},
		{"/v1/completions", `{"prompt":"x","response_format":{"type":"json_object"}}`, true},
		{"/v1/completions", `{"prompt":"x","structured_outputs":{"json":` + schema + `}}`, true},
		{"/v1/completions", `{"prompt":"x","structured_outputs":{"json":` + fmt.Sprintf("%q", schema) + `}}`, true},
		{"/v1/completions", `{"prompt":"x","structured_outputs":{"regex":"[0-9]+"}}`, true},
		{"/v1/completions", `{"prompt":"x","structured_outputs":{"choice":["yes","no"]}}`, true},
		{"/v1/completions", `{"prompt":"x","guided_json":` + schema + `}`, true},
		{"/v1/completions", `{"prompt":"x","guided_regex":"a|b"}`, true},
		{"/v1/completions", `{"prompt":"x","guided_choice":["a","b"]}`, true},
		{"/v1/completions", `{"prompt":"x"}`, false},
	}
	for _, tt := range tests {
		resp, body := h.post(tt.path, tt.body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d: %s", tt.body, resp.StatusCode, body)
			continue
		}
		if got := h.gen.last().Constraint != nil; got != tt.want {
			t.Errorf("%s: constraint installed %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestStructuredBadInput(t *testing.T) {
	h := newHarness(t, Config{}, true)
	tests := []struct {
		name, body, param, contains string
	}{
		{"unsupported keyword", `{"prompt":"x","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"type":"string","contentSchema":{}}}}}}}`,
			"response_format.json_schema.schema", `/properties/a: keyword "contentSchema"`},
		{"invalid type", `{"prompt":"x","response_format":{"type":"json_schema","json_schema":{"schema":{"type":"strin"}}}}`,
			"response_format.json_schema.schema", "unknown type"},
		{"unsatisfiable", `{"prompt":"x","structured_outputs":{"json":{"type":"integer","minimum":3,"maximum":1}}}`,
			"structured_outputs.json", "no output can match"},
		{"schema not JSON", `{"prompt":"x","guided_json":"{not json"}`, "guided_json", "not valid JSON"},
		{"bad regex", `{"prompt":"x","guided_regex":"(("}`, "guided_regex", "missing closing )"},
		{"grammar", `{"prompt":"x","structured_outputs":{"grammar":"root ::= \"a\""}}`, "structured_outputs.grammar", "not supported"},
		{"guided grammar", `{"prompt":"x","guided_grammar":"root ::= \"a\""}`, "guided_grammar", "not supported"},
		{"unknown structured field", `{"prompt":"x","structured_outputs":{"structural_tag":"x"}}`, "structured_outputs", "structural_tag"},
		{"two of them", `{"prompt":"x","response_format":{"type":"json_object"},"guided_regex":"a"}`, "guided_regex", "only one of"},
		{"unknown type", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"yaml"}}`, "response_format.type", "yaml"},
		{"empty choice", `{"prompt":"x","guided_choice":[]}`, "guided_choice", "at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/completions"
			if strings.Contains(tt.body, "messages") {
				path = "/v1/chat/completions"
			}
			resp, body := h.post(path, tt.body)
			e := errorOf(t, body)
			if resp.StatusCode != http.StatusBadRequest || deref(e.Param) != tt.param || !strings.Contains(e.Message, tt.contains) {
				t.Errorf("status %d param %q message %q; want 400 %q containing %q", resp.StatusCode, deref(e.Param), e.Message, tt.param, tt.contains)
			}
		})
	}
}

func TestJSONSchemaConstraintContract(t *testing.T) {
	h := newHarness(t, Config{}, false)
	if _, ae := h.srv.jsonSchemaConstraint(json.RawMessage(`{"type":"string"}`)); ae == nil || ae.status != http.StatusServiceUnavailable {
		t.Errorf("before the model is loaded: %v, want 503", ae)
	}
	h.ready("")
	install, ae := h.srv.jsonSchemaConstraint(json.RawMessage(`{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"]}`))
	if ae != nil {
		t.Fatal(ae)
	}
	var a, b = h.gen.last(), h.gen.last()
	install(&a)
	install(&b)
	if a.Constraint == nil || b.Constraint == nil || a.Constraint == b.Constraint {
		t.Errorf("each request must get its own constraint: %v %v", a.Constraint, b.Constraint)
	}
	_, ae = h.srv.jsonSchemaConstraint(json.RawMessage(`{"type":"array","uniqueItems":true}`))
	if ae == nil || ae.status != http.StatusBadRequest || ae.param != "schema" || !strings.Contains(ae.message, "uniqueItems") {
		t.Errorf("unsupported keyword: %+v", ae)
	}
}

// TestStructuredEndToEnd generates with stories260K under a schema,
// whole and streamed, on both endpoints, and validates the output with an
// independent JSON Schema library.
func TestStructuredEndToEnd(t *testing.T) {
	h := newRealHarness(t)
	schema := `{"type":"object","properties":{"name":{"type":"string","maxLength":10},"mood":{"enum":["happy","sad"]},"friends":{"type":"array","items":{"type":"integer","minimum":0,"maximum":99},"maxItems":3}},"required":["name","mood","friends"]}`
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///s.json", doc); err != nil {
		t.Fatal(err)
	}
	validator, err := c.Compile("mem:///s.json")
	if err != nil {
		t.Fatal(err)
	}
	format := `"response_format":{"type":"json_schema","json_schema":{"name":"story","schema":` + schema + `}}`
	for seed := range 4 {
		for _, stream := range []bool{false, true} {
			for _, chat := range []bool{false, true} {
				path, body := "/v1/completions", fmt.Sprintf(`{"prompt":"Once upon a time","max_tokens":300,"seed":%d,"stream":%v,%s}`, seed, stream, format)
				if chat {
					path, body = "/v1/chat/completions", fmt.Sprintf(`{"messages":[{"role":"user","content":"Who?"}],"max_tokens":300,"seed":%d,"stream":%v,%s}`, seed, stream, format)
				}
				resp, out := h.post(path, body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, out)
				}
				text, finish := responseText(t, out, stream, chat)
				if finish != "stop" {
					t.Errorf("%s: finish %q, text %q", body, finish, text)
					continue
				}
				inst, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
				if err != nil {
					t.Errorf("%s: %q does not parse: %v", body, text, err)
					continue
				}
				if err := validator.Validate(inst); err != nil {
					t.Errorf("%s: %q does not validate: %v", body, text, err)
				}
			}
		}
	}
	// A choice and a regex, through vLLM's field names old and new.
	for seed := range 4 {
		_, out := h.post("/v1/completions", fmt.Sprintf(`{"prompt":"Once upon a time","max_tokens":50,"seed":%d,"structured_outputs":{"choice":["cat","dog","a big bird"]}}`, seed))
		if text, finish := responseText(t, out, false, false); finish != "stop" || (text != "cat" && text != "dog" && text != "a big bird") {
			t.Errorf("choice: %q %q", text, finish)
		}
		_, out = h.post("/v1/chat/completions", fmt.Sprintf(`{"messages":[{"role":"user","content":"Code?"}],"max_tokens":50,"seed":%d,"guided_regex":"[0-9]{3}-[a-z]{2}"}`, seed))
		if text, finish := responseText(t, out, false, true); finish != "stop" || !regexp.MustCompile(`^[0-9]{3}-[a-z]{2}$`).MatchString(text) {
			t.Errorf("regex: %q %q", text, finish)
		}
	}
	// Cut by max_tokens: length, not a 500.
	_, out := h.post("/v1/completions", `{"prompt":"Once upon a time","max_tokens":3,`+format+`}`)
	if _, finish := responseText(t, out, false, false); finish != "length" {
		t.Errorf("max_tokens 3: finish %q, want length", finish)
	}
}

// responseText returns the generated text and finish reason of a
// completion or chat response, whole or streamed.
func responseText(t *testing.T, body []byte, stream, chat bool) (string, string) {
	t.Helper()
	var sb strings.Builder
	finish := ""
	add := func(data []byte) {
		if chat {
			for _, c := range decode[chatResponse](t, data).Choices {
				out := c.Message
				if stream {
					out = c.Delta
				}
				if out != nil && out.Content != nil {
					sb.WriteString(*out.Content)
				}
				if c.FinishReason != nil {
					finish = *c.FinishReason
				}
			}
			return
		}
		for _, c := range decode[completionResponse](t, data).Choices {
			sb.WriteString(c.Text)
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	if !stream {
		add(body)
		return sb.String(), finish
	}
	for _, data := range sseEvents(t, body) {
		if data != "[DONE]" {
			add([]byte(data))
		}
	}
	return sb.String(), finish
}
