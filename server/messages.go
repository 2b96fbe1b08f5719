package server

import (
	"fmt"
	"net/http"
	"strings"
)

// checkMessage refuses, as OpenAI does, a message whose role is not one of
// the chat API's (system, developer, user, assistant, tool) and one other
// than the assistant's whose content is null or missing: only an assistant
// message may leave its content out (it may carry tool calls instead).
func checkMessage(i int, m chatMessage) *apiError {
	switch m.Role {
	case "":
		return badRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d] has no role", i)
	case "system", "developer", "user", "tool":
		if !m.Content.Set {
			return badRequest(fmt.Sprintf("messages[%d].content", i),
				"messages[%d].content is required for a %s message: a string or an array of content parts, not null", i, m.Role)
		}
	case "assistant":
	default:
		return badRequest(fmt.Sprintf("messages[%d].role", i),
			"invalid value %q for messages[%d].role; supported values are 'system', 'developer', 'user', 'assistant' and 'tool'", m.Role, i)
	}
	return nil
}

// checkEncoding refuses a compressed body with 415: Sieve reads request
// bodies as sent, so a gzip body would otherwise be parsed as malformed
// JSON. Only "identity" (no encoding) is accepted.
func checkEncoding(h http.Header) *apiError {
	for _, v := range h.Values("Content-Encoding") {
		for _, coding := range strings.Split(v, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "identity") {
				return &apiError{status: http.StatusUnsupportedMediaType, kind: typeInvalidRequest, code: "unsupported_media_type",
					message: fmt.Sprintf("Content-Encoding %q is not supported; send the request body uncompressed", c)}
			}
		}
	}
	return nil
}
