package server

import "fmt"

// textLimit is the most bytes of text that contextLen tokens of tok can
// hold: contextLen times the most input bytes one token can stand for (its
// longest piece, one more for SentencePiece's leading space, the longest
// special-token text, and at least one UTF-8 character, for an unknown
// token). A longer text cannot fit, so it is refused before it is
// tokenized: the cost of that refusal is bounded by the context, not by
// the body (tokenizing a 4 MiB prompt for a 2048-token model took hundreds
// of megabytes). It saturates instead of overflowing.
func textLimit(tok interface {
	VocabSize() int
	Piece(prev, id int32) []byte
	IsControl(id int32) bool
}, contextLen int) int {
	longest := 4 // one UTF-8 character
	for id := range int32(tok.VocabSize()) {
		n := len(tok.Piece(-1, id)) + 1
		if tok.IsControl(id) {
			n = max(n, controlTextLen(tok, id))
		}
		longest = max(longest, n)
	}
	const maxInt = int(^uint(0) >> 1)
	if contextLen > maxInt/longest {
		return maxInt
	}
	return contextLen * longest
}

// controlTextLen is the length of a control token's text, when the
// tokenizer can name it.
func controlTextLen(tok any, id int32) int {
	if t, ok := tok.(interface{ TokenText(id int32) string }); ok {
		return len(t.TokenText(id))
	}
	return 32 // the longest spelling in specialTexts, with room to spare
}

// textTooLong is the 400 for a text of n bytes that cannot fit the
// context: the prompt, or the conversation of the messages.
func textTooLong(b *backend, param string, n int) *apiError {
	what := "prompt"
	if param == "messages" {
		what = "conversation"
	}
	return &apiError{status: 400, kind: typeInvalidRequest, param: param, code: "context_length_exceeded",
		message: fmt.Sprintf("this model's maximum context length is %d tokens, but the %s is %d bytes long, more than that many tokens can hold (%d bytes at most)",
			b.ContextLen, what, n, b.maxTextBytes)}
}
