package server

import "sieve/tokenizer"

// specialTexts are the spellings of BOS/EOS across Llama-family vocabularies,
// tried when the tokenizer cannot name a token itself.
var specialTexts = []string{
	"<s>", "</s>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
	"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|startoftext|>", "<bos>", "<eos>",
}

// tokenText returns the text of special token id ("" for -1): from the
// tokenizer's TokenText method when it has one, else by matching the usual
// spellings.
func tokenText(tok tokenizer.Tokenizer, id int32) string {
	if id < 0 {
		return ""
	}
	if t, ok := tok.(interface{ TokenText(id int32) string }); ok {
		return t.TokenText(id)
	}
	for _, s := range specialTexts {
		if got, ok := tok.TokenID(s); ok && got == id {
			return s
		}
	}
	return tok.Decode([]int32{id})
}

// addsBOS reports whether prompts start with BOS: the tokenizer's AddBOS
// method when it has one, else whenever the vocabulary has a BOS token (as
// Llama models do).
func addsBOS(tok tokenizer.Tokenizer) bool {
	if t, ok := tok.(interface{ AddBOS() bool }); ok {
		return t.AddBOS()
	}
	return tok.BOS() >= 0
}
