package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"sieve/engine"
	"sieve/grammar"
)

// structuredFields are the request fields that constrain the form of the
// output: OpenAI's response_format, vLLM's structured_outputs and its
// older guided_* fields.
type structuredFields struct {
	ResponseFormat    *responseFormat `json:"response_format"`
	StructuredOutputs json.RawMessage `json:"structured_outputs"`
	GuidedJSON        json.RawMessage `json:"guided_json"`
	GuidedRegex       *string         `json:"guided_regex"`
	GuidedChoice      []string        `json:"guided_choice"`
	GuidedGrammar     *string         `json:"guided_grammar"`
}

// responseFormat is OpenAI's response_format field.
type responseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *jsonSchemaFormat `json:"json_schema"`
}

// jsonSchemaFormat is response_format.json_schema.
type jsonSchemaFormat struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Strict      *bool           `json:"strict"`
}

// structuredOutputs is vLLM's structured_outputs field.
type structuredOutputs struct {
	JSON       json.RawMessage `json:"json"`
	Regex      *string         `json:"regex"`
	Choice     []string        `json:"choice"`
	Grammar    *string         `json:"grammar"`
	JSONObject *bool           `json:"json_object"`
}

// constraint returns the function that installs the request's output
// constraint on an engine request, or nil when the request has none.
func (s *Server) constraint(b *backend, f *structuredFields) (func(*engine.Request), *apiError) {
	var chosen []string
	var install func(*engine.Request)
	var ae *apiError
	pick := func(param string, mk func() (func(*engine.Request), *apiError)) {
		chosen = append(chosen, param)
		if len(chosen) == 1 {
			install, ae = mk()
		}
	}
	if rf := f.ResponseFormat; rf != nil && rf.Type != "text" {
		pick("response_format", func() (func(*engine.Request), *apiError) { return s.responseFormat(b, rf) })
	}
	if len(f.StructuredOutputs) > 0 && !isNull(f.StructuredOutputs) {
		pick("structured_outputs", func() (func(*engine.Request), *apiError) { return s.structuredOutputs(b, f.StructuredOutputs) })
	}
	if len(f.GuidedJSON) > 0 && !isNull(f.GuidedJSON) {
		pick("guided_json", func() (func(*engine.Request), *apiError) { return s.schemaParam(b, f.GuidedJSON, "guided_json") })
	}
	if f.GuidedRegex != nil {
		pick("guided_regex", func() (func(*engine.Request), *apiError) { return s.regexConstraint(b, *f.GuidedRegex, "guided_regex") })
	}
	if f.GuidedChoice != nil {
		pick("guided_choice", func() (func(*engine.Request), *apiError) {
			return s.choiceConstraint(b, f.GuidedChoice, "guided_choice")
		})
	}
	if f.GuidedGrammar != nil {
		pick("guided_grammar", func() (func(*engine.Request), *apiError) { return nil, grammarUnsupported("guided_grammar") })
	}
	if len(chosen) > 1 {
		return nil, badRequest(chosen[1], "only one of %s may be given", strings.Join(chosen, ", "))
	}
	return install, ae
}

// responseFormat handles OpenAI's response_format.
func (s *Server) responseFormat(b *backend, rf *responseFormat) (func(*engine.Request), *apiError) {
	switch rf.Type {
	case "json_object":
		return s.jsonConstraint(b)
	case "json_schema":
		if rf.JSONSchema == nil {
			return nil, badRequest("response_format.json_schema", "response_format of type json_schema needs json_schema")
		}
		if len(rf.JSONSchema.Schema) == 0 || isNull(rf.JSONSchema.Schema) {
			return s.jsonConstraint(b)
		}
		return s.schemaParam(b, rf.JSONSchema.Schema, "response_format.json_schema.schema")
	case "":
		return nil, badRequest("response_format.type", "response_format needs a type: text, json_object or json_schema")
	}
	return nil, badRequest("response_format.type", "unsupported response_format type %q; use text, json_object or json_schema", rf.Type)
}

// structuredOutputs handles vLLM's structured_outputs; a field Sieve does
// not know is refused rather than ignored.
func (s *Server) structuredOutputs(b *backend, raw json.RawMessage) (func(*engine.Request), *apiError) {
	var so structuredOutputs
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&so); err != nil {
		return nil, badRequest("structured_outputs", "structured_outputs: %v", err)
	}
	n := 0
	for _, set := range []bool{len(so.JSON) > 0 && !isNull(so.JSON), so.Regex != nil, so.Choice != nil, so.Grammar != nil, so.JSONObject != nil && *so.JSONObject} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return nil, badRequest("structured_outputs", "structured_outputs needs exactly one of json, regex, choice and json_object")
	case so.Grammar != nil:
		return nil, grammarUnsupported("structured_outputs.grammar")
	case so.Regex != nil:
		return s.regexConstraint(b, *so.Regex, "structured_outputs.regex")
	case so.Choice != nil:
		return s.choiceConstraint(b, so.Choice, "structured_outputs.choice")
	case so.JSONObject != nil:
		return s.jsonConstraint(b)
	}
	return s.schemaParam(b, so.JSON, "structured_outputs.json")
}

// grammarUnsupported is the error for a grammar field.
func grammarUnsupported(param string) *apiError {
	return badRequest(param, "%s is not supported: Sieve constrains output with a JSON schema, a regex or a choice", param)
}

// schemaParam compiles a schema given in the field param: a JSON object,
// or a string holding one (vLLM accepts both).
func (s *Server) schemaParam(b *backend, raw json.RawMessage, param string) (func(*engine.Request), *apiError) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = json.RawMessage(text)
	}
	install, ae := s.compileSchema(b, raw)
	if ae != nil {
		ae.param = param
	}
	return install, ae
}

// jsonSchemaConstraint compiles schema into a constraint that makes a request's output one JSON value
// matching it; the returned function installs it on an engine request.
func (s *Server) jsonSchemaConstraint(schema json.RawMessage) (func(*engine.Request), *apiError) {
	b := s.ready.Load()
	if b == nil {
		return nil, &apiError{status: http.StatusServiceUnavailable, kind: typeUnavailable,
			code: "model_loading", message: "the model is still loading; retry shortly"}
	}
	return s.compileSchema(b, schema)
}

// compileSchema compiles schema for b; errors name the param "schema".
func (s *Server) compileSchema(b *backend, schema json.RawMessage) (func(*engine.Request), *apiError) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, schema); err != nil {
		return nil, badRequest("schema", "the schema is not valid JSON: %v", err)
	}
	return s.cached(b, "schema\x00"+compact.String(), "schema", func() (*grammar.Grammar, error) {
		return grammar.CompileSchema(compact.Bytes(), grammar.DefaultLimits())
	})
}

// jsonConstraint constrains the output to one JSON object.
func (s *Server) jsonConstraint(b *backend) (func(*engine.Request), *apiError) {
	return s.cached(b, "json_object", "response_format", func() (*grammar.Grammar, error) {
		return grammar.CompileJSON(true, grammar.DefaultLimits())
	})
}

// regexConstraint constrains the output to the whole of a match of pattern.
func (s *Server) regexConstraint(b *backend, pattern, param string) (func(*engine.Request), *apiError) {
	return s.cached(b, "regex\x00"+pattern, param, func() (*grammar.Grammar, error) {
		return grammar.CompileRegex(pattern, grammar.DefaultLimits())
	})
}

// choiceConstraint constrains the output to one of choices.
func (s *Server) choiceConstraint(b *backend, choices []string, param string) (func(*engine.Request), *apiError) {
	if len(choices) == 0 {
		return nil, badRequest(param, "%s must list at least one choice", param)
	}
	key, _ := json.Marshal(choices)
	return s.cached(b, "choice\x00"+string(key), param, func() (*grammar.Grammar, error) {
		return grammar.CompileChoice(choices, grammar.DefaultLimits())
	})
}

// cached compiles through b's grammar cache and returns the installer of
// a fresh matcher per request. Compile errors are 400s about param.
func (s *Server) cached(b *backend, key, param string, compile func() (*grammar.Grammar, error)) (func(*engine.Request), *apiError) {
	c, err := b.grammars.get(key, compile)
	if err != nil {
		return nil, grammarError(param, err)
	}
	return func(r *engine.Request) { r.Constraint = c.NewMatcher() }, nil
}

// grammarError turns a compile error (unsupported, invalid, too large or
// unsatisfiable) into a 400.
func grammarError(param string, err error) *apiError {
	msg := strings.ReplaceAll(err.Error(), "grammar: ", "")
	switch {
	case errors.Is(err, grammar.ErrUnsatisfiable):
		return &apiError{status: http.StatusBadRequest, kind: typeInvalidRequest, param: param, code: "unsatisfiable_schema",
			message: fmt.Sprintf("no output can match: %s", msg)}
	}
	return badRequest(param, "%s", msg)
}
