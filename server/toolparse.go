package server

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
)

// Tool-call parser names, as vLLM's --tool-call-parser spells them.
const (
	parserLlama3  = "llama3_json"
	parserHermes  = "hermes"
	parserMistral = "mistral"
)

// Markers of the tool-call formats.
const (
	pythonTag      = "<|python_tag|>"
	hermesOpen     = "<tool_call>"
	hermesClose    = "</tool_call>"
	mistralMarker  = "[TOOL_CALLS]"
	mistralArgs    = "[ARGS]"
	mistralIDChars = 9 // Mistral's templates require call ids of 9 letters and digits
)

// parsedCall is one call found in a model's output: the function name and
// its arguments as compact JSON.
type parsedCall struct {
	name      string
	arguments string
}

// toolCallParser finds tool calls in what a model wrote.
type toolCallParser interface {
	// parse splits a finished output into the text before the calls and
	// the calls; with no well-formed call, calls is nil and the whole
	// text is content.
	parse(text string) (content string, calls []parsedCall)
	// callStart, for streaming, finds where a call begins in the output so
	// far: at index i, certainly (partial false), or perhaps, once more
	// text comes (partial true); i is -1 when none may begin yet.
	callStart(text string) (i int, partial bool)
	// newID returns a fresh call id in the form the format's templates
	// accept.
	newID() string
}

// newToolCallParser returns the parser of a name above.
func newToolCallParser(name string) (toolCallParser, error) {
	switch name {
	case parserLlama3:
		return llama3Parser{}, nil
	case parserHermes:
		return hermesParser{}, nil
	case parserMistral:
		return mistralParser{}, nil
	}
	return nil, fmt.Errorf("unknown tool-call parser %q (want %s, %s or %s)", name, parserLlama3, parserHermes, parserMistral)
}

// detectParser names the tool-call format a chat template teaches its
// model, from the markers in its source; Llama 3's JSON calls otherwise,
// which the built-in templates without a format of their own ask for.
func detectParser(src string) string {
	switch {
	case strings.Contains(src, hermesOpen):
		return parserHermes
	case strings.Contains(src, mistralMarker):
		return parserMistral
	}
	return parserLlama3
}

// llama3Parser reads Llama 3.1/3.2 calls: the whole output is one JSON
// object {"name": ..., "parameters": {...}} (or several separated by
// semicolons), possibly after <|python_tag|>.
type llama3Parser struct{}

func (llama3Parser) parse(text string) (string, []parsedCall) {
	t := strings.TrimSpace(text)
	t = strings.TrimSpace(strings.TrimPrefix(t, pythonTag))
	if !strings.HasPrefix(t, "{") {
		return text, nil
	}
	calls, ok := decodeCallSequence(t, ';')
	if !ok {
		return text, nil
	}
	return "", calls
}

func (llama3Parser) callStart(text string) (int, bool) {
	t := strings.TrimLeft(text, " \t\r\n")
	switch {
	case t == "" || strings.HasPrefix(pythonTag, t):
		return 0, true
	case strings.HasPrefix(t, "{") || strings.HasPrefix(t, pythonTag):
		return 0, false
	}
	return -1, false
}

func (llama3Parser) newID() string { return "call_" + randomID(24) }

// hermesParser reads Hermes-style calls: <tool_call>{"name": ...,
// "arguments": {...}}</tool_call>, one block per call, after any text.
type hermesParser struct{}

func (hermesParser) parse(text string) (string, []parsedCall) {
	i := strings.Index(text, hermesOpen)
	if i < 0 {
		return text, nil
	}
	var calls []parsedCall
	for rest := text[i:]; ; {
		rest = strings.TrimSpace(rest)
		body, ok := strings.CutPrefix(rest, hermesOpen)
		if !ok {
			break
		}
		inner, after, closed := strings.Cut(body, hermesClose)
		if !closed && strings.Contains(inner, hermesOpen) {
			return text, nil
		}
		c, ok := decodeCall(strings.TrimSpace(inner))
		if !ok {
			return text, nil
		}
		calls = append(calls, c)
		rest = after
	}
	return strings.TrimSpace(text[:i]), calls
}

func (hermesParser) callStart(text string) (int, bool) { return markerStart(text, hermesOpen) }

func (hermesParser) newID() string { return "call_" + randomID(24) }

// mistralParser reads Mistral calls: [TOOL_CALLS] then a JSON array of
// {"name": ..., "arguments": {...}}. [TOOL_CALLS] is a control token in
// Mistral's vocabularies, whose text the output does not carry, so an
// output that is such an array from its start counts too.
type mistralParser struct{}

func (mistralParser) parse(text string) (string, []parsedCall) {
	content, rest := "", strings.TrimSpace(text)
	if i := strings.Index(text, mistralMarker); i >= 0 {
		content, rest = strings.TrimSpace(text[:i]), strings.TrimSpace(text[i+len(mistralMarker):])
	} else if !strings.HasPrefix(rest, "[") {
		return text, nil // without the marker, only an array from the start
	}
	if strings.Contains(rest, mistralArgs) {
		calls, ok := decodeNamedArgs(rest)
		if !ok {
			return text, nil
		}
		return content, calls
	}
	if !strings.HasPrefix(rest, "[") && !strings.HasPrefix(rest, "{") {
		return text, nil
	}
	var raws []json.RawMessage
	if strings.HasPrefix(rest, "{") {
		raws = []json.RawMessage{json.RawMessage(rest)}
	} else if json.Unmarshal([]byte(rest), &raws) != nil || len(raws) == 0 {
		return text, nil
	}
	calls := make([]parsedCall, 0, len(raws))
	for _, raw := range raws {
		c, ok := decodeCall(string(raw))
		if !ok {
			return text, nil
		}
		calls = append(calls, c)
	}
	return content, calls
}

func (mistralParser) callStart(text string) (int, bool) {
	if i, partial := markerStart(text, mistralMarker); i >= 0 {
		return i, partial
	}
	t := strings.TrimLeft(text, " \t\r\n")
	switch {
	case t == "":
		return 0, true
	case strings.HasPrefix(t, "["):
		return 0, false
	}
	return -1, false
}

func (mistralParser) newID() string { return randomID(mistralIDChars) }

// decodeNamedArgs reads the newer Mistral form, name[ARGS]{...}, one
// call after each [TOOL_CALLS] marker.
func decodeNamedArgs(s string) ([]parsedCall, bool) {
	var calls []parsedCall
	for part := range strings.SplitSeq(s, mistralMarker) {
		name, args, ok := strings.Cut(strings.TrimSpace(part), mistralArgs)
		if !ok {
			return nil, false
		}
		name = strings.TrimSpace(name)
		compact, ok := compactArgs([]byte(args))
		if !ok || name == "" {
			return nil, false
		}
		calls = append(calls, parsedCall{name: name, arguments: compact})
	}
	return calls, true
}

// markerStart finds marker in text, or a prefix of it at text's end.
func markerStart(text, marker string) (int, bool) {
	if i := strings.Index(text, marker); i >= 0 {
		return i, false
	}
	for n := min(len(marker)-1, len(text)); n > 0; n-- {
		if strings.HasSuffix(text, marker[:n]) {
			return len(text) - n, true
		}
	}
	return -1, false
}

// decodeCall reads one {"name": ..., "arguments" or "parameters": {...}}
// object; the arguments may also come as a string holding a JSON object.
func decodeCall(s string) (parsedCall, bool) {
	var obj struct {
		Name       string          `json:"name"`
		Arguments  json.RawMessage `json:"arguments"`
		Parameters json.RawMessage `json:"parameters"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	if dec.Decode(&obj) != nil || dec.More() || obj.Name == "" {
		return parsedCall{}, false
	}
	args := obj.Arguments
	if len(args) == 0 {
		args = obj.Parameters
	}
	compact, ok := compactArgs(args)
	return parsedCall{name: obj.Name, arguments: compact}, ok
}

// compactArgs returns a call's arguments as compact JSON: one JSON object,
// possibly written as a string holding it; absent or null is {}.
func compactArgs(args []byte) (string, bool) {
	if len(bytes.TrimSpace(args)) == 0 || isNull(args) {
		return "{}", true
	}
	var inner string
	if json.Unmarshal(args, &inner) == nil {
		args = []byte(inner)
	}
	var b bytes.Buffer
	if !bytes.HasPrefix(bytes.TrimSpace(args), []byte("{")) || json.Compact(&b, bytes.TrimSpace(args)) != nil {
		return "", false
	}
	return b.String(), true
}

// decodeCallSequence reads calls written one after another, separated by
// spaces or sep; all of s must be calls.
func decodeCallSequence(s string, sep byte) ([]parsedCall, bool) {
	var calls []parsedCall
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		c, ok := decodeCall(string(raw))
		if !ok {
			return nil, false
		}
		calls = append(calls, c)
		rest := strings.TrimLeft(s[dec.InputOffset():], " \t\r\n")
		if rest == "" {
			return calls, true
		}
		if rest[0] != sep {
			return nil, false
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		if rest == "" {
			return calls, true
		}
		s = rest
		dec = json.NewDecoder(strings.NewReader(s))
	}
}

// idChars are the characters of call ids.
const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomID returns n random letters and digits.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}
