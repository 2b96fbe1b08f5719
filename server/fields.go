package server

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// refusedField is an OpenAI or vLLM request field that Sieve knows but does
// not implement: a request that sets it to anything but one of its neutral
// values (or null) is a 400 naming it, never a 200 that ignored it.
type refusedField struct {
	name    string
	neutral []string // JSON values that ask for nothing Sieve lacks
	why     string
}

// refusedFields is the one list of known fields that Sieve refuses.
// README's API section lists the same names.
var refusedFields = []refusedField{
	{"suffix", []string{`""`}, "suffix (text after the insertion point) is not supported"},
	{"best_of", []string{`1`}, "best_of > 1 is not supported; only one candidate is generated"},
	{"echo", []string{`false`}, "echo is only supported on /v1/completions"},
	{"functions", []string{`[]`}, "functions is deprecated and not supported; send tools"},
	{"function_call", nil, "function_call is deprecated and not supported; send tool_choice"},
	{"audio", nil, "audio output is not supported"},
	{"modalities", []string{`["text"]`}, "only the text modality is supported"},
	{"prediction", nil, "predicted outputs are not supported"},
	{"web_search_options", nil, "web search is not supported"},
	{"reasoning_effort", nil, "reasoning_effort is not supported by the served models"},
	{"verbosity", nil, "verbosity is not supported"},
	{"store", []string{`false`}, "stored completions are not supported"},
	{"service_tier", []string{`"auto"`, `"default"`}, "only the default service tier exists"},
	{"use_beam_search", []string{`false`}, "beam search is not supported"},
	{"length_penalty", []string{`1`}, "length_penalty (beam search) is not supported"},
	{"min_tokens", []string{`0`}, "min_tokens is not supported"},
	{"stop_token_ids", []string{`[]`}, "stop_token_ids is not supported; send stop strings"},
	{"bad_words", []string{`[]`}, "bad_words is not supported; send logit_bias"},
	{"allowed_token_ids", nil, "allowed_token_ids is not supported; send logit_bias"},
	{"include_stop_str_in_output", []string{`false`}, "include_stop_str_in_output is not supported"},
	{"skip_special_tokens", []string{`true`}, "special tokens are always skipped"},
	{"spaces_between_special_tokens", []string{`true`}, "spaces_between_special_tokens is not supported"},
	{"prompt_logprobs", []string{`0`}, "prompt_logprobs is not supported"},
	{"truncate_prompt_tokens", nil, "truncate_prompt_tokens is not supported"},
	{"priority", []string{`0`}, "request priorities are not supported"},
	{"add_generation_prompt", []string{`true`}, "add_generation_prompt is always true"},
	{"continue_final_message", []string{`false`}, "continue_final_message is not supported"},
	{"chat_template", nil, "a per-request chat_template is not supported; start the server with --chat-template"},
	{"chat_template_kwargs", nil, "chat_template_kwargs is not supported"},
	{"documents", nil, "documents are not supported"},
	{"mm_processor_kwargs", nil, "multimodal inputs are not supported"},
}

// otherKnownFields are accepted request fields with no struct field on
// this branch of the code: metadata that asks for no behaviour, and the
// constrained-decoding fields, which server/structured.go reads.
var otherKnownFields = []string{
	"user", "metadata", "prompt_cache_key", "safety_identifier",
	"response_format", "structured_outputs",
	"guided_json", "guided_regex", "guided_choice", "guided_grammar",
}

// maxWarnedFields bounds the unknown field names remembered for warning
// once each, so that a client inventing names cannot grow memory.
const maxWarnedFields = 256

// unknownFields remembers which unknown field names were logged.
type unknownFields struct {
	mu   sync.Mutex
	seen map[string]bool
}

// first reports whether name is new, remembering it while there is room.
func (u *unknownFields) first(name string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen[name] || len(u.seen) >= maxWarnedFields {
		return false
	}
	if u.seen == nil {
		u.seen = map[string]bool{}
	}
	u.seen[name] = true
	return true
}

// checkFields goes over the top-level keys of body, decoded into v: a
// refused field with a value that asks for something is a 400 naming it,
// and an unknown field is logged at warn level, once per name for the
// server's life, and otherwise ignored (clients send extras).
func (s *Server) checkFields(ctx context.Context, body []byte, v any) *apiError {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return nil // not an object: json.Unmarshal into v already said so
	}
	known := jsonFieldNames(reflect.TypeOf(v))
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	slices.Sort(names) // the first refused field in name order, every time
	for _, name := range names {
		if known[name] || slices.Contains(otherKnownFields, name) {
			continue
		}
		if i := slices.IndexFunc(refusedFields, func(f refusedField) bool { return f.name == name }); i >= 0 {
			if f := refusedFields[i]; !isNeutral(keys[name], f.neutral) {
				return badRequest(name, "%s: %s", name, f.why)
			}
			continue
		}
		if s.unknown.first(name) {
			requestLogger(ctx, s.log).Warn("ignoring an unknown request field (logged once per name)", "field", name)
		}
	}
	return nil
}

// isNeutral reports whether raw is null or equals one of the JSON values
// in neutral.
func isNeutral(raw json.RawMessage, neutral []string) bool {
	if isNull(raw) {
		return true
	}
	var got any
	if json.Unmarshal(raw, &got) != nil {
		return false
	}
	for _, n := range neutral {
		var want any
		if json.Unmarshal([]byte(n), &want) == nil && reflect.DeepEqual(got, want) {
			return true
		}
	}
	return false
}

// jsonFieldNames returns the JSON names of the fields of the struct t
// points to, including those of embedded structs.
func jsonFieldNames(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := map[string]bool{}
	if t.Kind() != reflect.Struct {
		return names
	}
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && tag == "":
			for name := range jsonFieldNames(f.Type) {
				names[name] = true
			}
		case tag == "-":
		case tag != "":
			names[tag] = true
		case f.IsExported():
			names[f.Name] = true
		}
	}
	return names
}
