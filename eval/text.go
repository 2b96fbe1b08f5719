package eval

import (
	"fmt"
	"regexp"
	"strings"

	"sieve/tokenizer"
)

// Windows tokenizes a text for scoring. The text is split into documents at
// blank lines; each document is encoded with BOS and cut into windows of at
// most ctx tokens, every window starting with BOS and carrying on where the
// previous one stopped. Windows shorter than minLen tokens (the tail of a
// document, or a short document) are dropped unless nothing else is left.
func Windows(tok tokenizer.Tokenizer, text string, ctx, minLen int) ([][]int32, error) {
	bos := tok.BOS()
	if bos < 0 {
		return nil, fmt.Errorf("eval: the tokenizer has no BOS token")
	}
	if ctx < 2 {
		return nil, fmt.Errorf("eval: context of %d tokens is too short to score", ctx)
	}
	var all, kept [][]int32
	for _, doc := range documents(text) {
		ids := tok.Encode(doc, tokenizer.EncodeOptions{})
		for len(ids) > 0 {
			n := min(len(ids), ctx-1)
			w := append([]int32{bos}, ids[:n]...)
			ids = ids[n:]
			all = append(all, w)
			if len(w) >= minLen {
				kept = append(kept, w)
			}
		}
	}
	if len(kept) == 0 {
		kept = all
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("eval: the text has no tokens")
	}
	return kept, nil
}

// blankLine matches the line breaks around a blank line.
var blankLine = regexp.MustCompile(`\r?\n[ \t]*\r?\n`)

// documents splits text at blank lines and trims each part; empty parts are
// dropped.
func documents(text string) []string {
	var docs []string
	for _, part := range blankLine.Split(text, -1) {
		if part = strings.TrimSpace(part); part != "" {
			docs = append(docs, part)
		}
	}
	return docs
}
