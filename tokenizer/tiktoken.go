package tokenizer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
)

// llama3BaseVocab is the number of ranked tokens in Meta's Llama 3 tiktoken
// file; the special tokens follow them.
const llama3BaseVocab = 128000

// llama3Specials returns the 256 Llama 3 special tokens, ids 128000..128255,
// in the order of Meta's reference tokenizer.
func llama3Specials() []string {
	names := []string{
		"<|begin_of_text|>",
		"<|end_of_text|>",
		"<|reserved_special_token_0|>",
		"<|reserved_special_token_1|>",
		"<|reserved_special_token_2|>",
		"<|reserved_special_token_3|>",
		"<|start_header_id|>",
		"<|end_header_id|>",
		"<|reserved_special_token_4|>",
		"<|eot_id|>",
	}
	for i := 5; len(names) < 256; i++ {
		names = append(names, "<|reserved_special_token_"+strconv.Itoa(i)+"|>")
	}
	return names
}

// looksLikeTiktoken reports whether the first line of data is "base64 rank".
func looksLikeTiktoken(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	_, _, err := parseTiktokenLine(line)
	return err == nil
}

// parseTiktokenLine parses one "base64 rank" line.
func parseTiktokenLine(line []byte) ([]byte, int, error) {
	enc, rankText, ok := bytes.Cut(bytes.TrimRight(line, "\r"), []byte{' '})
	if !ok || len(enc) == 0 {
		return nil, 0, fmt.Errorf("%w: tiktoken line %q is not \"base64 rank\"", ErrBadVocab, line)
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(raw, enc)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: tiktoken token %q: %w", ErrBadVocab, enc, err)
	}
	rank, err := strconv.Atoi(string(rankText))
	if err != nil || rank < 0 {
		return nil, 0, fmt.Errorf("%w: tiktoken rank %q", ErrBadVocab, rankText)
	}
	return raw[:n], rank, nil
}

// parseTiktoken reads a tiktoken BPE file: one "base64(token bytes) rank"
// line per token, the rank being the token id and the merge priority. Tokens
// are stored in the GPT-2 byte-to-unicode form, with Merges nil (rank order).
// A file of exactly the 128000 Llama 3 tokens gets the 256 Llama 3 special
// tokens appended (BOS <|begin_of_text|>, EOS <|end_of_text|>, end of turn
// <|eot_id|>).
func parseTiktoken(data []byte) (*Vocab, error) {
	br := newByteRunes()
	var tokens []string
	seen := 0
	// Ranks are token ids 0..n-1, one a line, so a rank at or past the
	// number of lines is an error before the table grows to it.
	lines := bytes.Count(data, []byte{'\n'}) + 1
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		raw, rank, err := parseTiktokenLine(line)
		if err != nil {
			return nil, err
		}
		if rank >= len(tokens) {
			if rank >= min(lines, MaxVocabSize) {
				return nil, fmt.Errorf("%w: tiktoken rank %d in a file of %d lines (ranks must be 0 to %d)", ErrBadVocab, rank, lines, min(lines, MaxVocabSize)-1)
			}
			tokens = append(tokens, make([]string, rank+1-len(tokens))...)
		}
		if tokens[rank] != "" {
			return nil, fmt.Errorf("%w: tiktoken rank %d given twice", ErrBadVocab, rank)
		}
		tokens[rank] = br.encode(raw)
		seen++
	}
	if seen == 0 || seen != len(tokens) {
		return nil, fmt.Errorf("%w: tiktoken ranks are not 0..%d", ErrBadVocab, seen-1)
	}
	v := &Vocab{Kind: ByteBPE, Tokens: tokens, Pre: "llama3", BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	if len(tokens) == llama3BaseVocab {
		v.Types = make([]TokenType, len(tokens), len(tokens)+256)
		for i := range v.Types {
			v.Types[i] = TypeNormal
		}
		for _, name := range llama3Specials() {
			v.Tokens = append(v.Tokens, name)
			v.Types = append(v.Types, TypeControl)
		}
		v.BOS, v.EOS, v.EOT = llama3BaseVocab, llama3BaseVocab+1, []int32{llama3BaseVocab + 9}
		v.AddBOS = true
	}
	return v, nil
}
