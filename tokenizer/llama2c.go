package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// llama2cMaxTokenLength bounds max_token_length in a plausible llama2.c tokenizer.bin.
const llama2cMaxTokenLength = 1 << 16

// looksLikeLlama2c reports whether data starts like a llama2.c tokenizer.bin:
// a plausible max_token_length and a first token no longer than it.
func looksLikeLlama2c(data []byte) bool {
	if len(data) < 12 {
		return false
	}
	maxLen := binary.LittleEndian.Uint32(data)
	first := binary.LittleEndian.Uint32(data[8:])
	return maxLen > 0 && maxLen <= llama2cMaxTokenLength && first <= maxLen
}

// parseLlama2c reads a llama2.c tokenizer.bin: uint32 max_token_length,
// then until the end {float32 score, uint32 len, len bytes} per token. The
// export writes spaces for "▁" and "\n<s>\n", "\n</s>\n" for BOS and EOS;
// those are turned back into SentencePiece pieces. Ids 0, 1, 2 are UNK,
// BOS, EOS; token types are inferred from the piece texts.
func parseLlama2c(data []byte) (*Vocab, error) {
	if len(data) < 4 {
		return nil, fmt.Errorf("%w: llama2.c tokenizer truncated", ErrBadVocab)
	}
	maxLen := binary.LittleEndian.Uint32(data)
	if maxLen == 0 || maxLen > llama2cMaxTokenLength {
		return nil, fmt.Errorf("%w: llama2.c max token length %d", ErrBadVocab, maxLen)
	}
	v := &Vocab{Kind: SentencePiece, BOS: -1, EOS: -1, UNK: -1, PAD: -1, AddBOS: true, AddSpacePrefix: true}
	for off := 4; off < len(data); {
		if len(data)-off < 8 {
			return nil, fmt.Errorf("%w: llama2.c token %d truncated", ErrBadVocab, len(v.Tokens))
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		n := binary.LittleEndian.Uint32(data[off+4:])
		off += 8
		if n > maxLen || int(n) > len(data)-off {
			return nil, fmt.Errorf("%w: llama2.c token %d has length %d (max %d)", ErrBadVocab, len(v.Tokens), n, maxLen)
		}
		text := string(data[off : off+int(n)])
		off += int(n)
		switch text {
		case "\n<s>\n":
			text = "<s>"
		case "\n</s>\n":
			text = "</s>"
		default:
			text = strings.ReplaceAll(text, " ", "▁")
		}
		v.Tokens = append(v.Tokens, text)
		v.Scores = append(v.Scores, score)
	}
	v.Types = make([]TokenType, len(v.Tokens))
	for id, text := range v.Tokens {
		v.Types[id] = TypeNormal
		if _, ok := parseByteToken(text); ok {
			v.Types[id] = TypeByte
		}
	}
	if len(v.Tokens) < 3 {
		return nil, fmt.Errorf("%w: llama2.c tokenizer has %d tokens, fewer than UNK, BOS, EOS", ErrBadVocab, len(v.Tokens))
	}
	v.UNK, v.BOS, v.EOS = 0, 1, 2
	v.Types[0], v.Types[1], v.Types[2] = TypeUnknown, TypeControl, TypeControl
	return v, nil
}
