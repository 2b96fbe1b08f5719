package synth

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"

	"sieve/model/gguf"
	"sieve/tokenizer"
)

// ByteVocab returns a minimal SentencePiece vocabulary: <unk> (0), <s> (1,
// BOS), </s> (2, EOS), the 256 byte tokens <0x00>..<0xFF> and "▁" (259, the
// escaped space), so that text encodes byte by byte and decodes back exactly.
func ByteVocab() *tokenizer.Vocab {
	v := &tokenizer.Vocab{
		Kind:           tokenizer.SentencePiece,
		Tokens:         []string{"<unk>", "<s>", "</s>"},
		Types:          []tokenizer.TokenType{tokenizer.TypeUnknown, tokenizer.TypeControl, tokenizer.TypeControl},
		BOS:            1,
		EOS:            2,
		UNK:            0,
		PAD:            -1,
		AddBOS:         true,
		AddSpacePrefix: false,
	}
	for b := range 256 {
		v.Tokens = append(v.Tokens, fmt.Sprintf("<0x%02X>", b))
		v.Types = append(v.Types, tokenizer.TypeByte)
	}
	v.Tokens = append(v.Tokens, "▁")
	v.Types = append(v.Types, tokenizer.TypeNormal)
	v.Scores = make([]float32, len(v.Tokens))
	return v
}

// ReadVocab reads a vocabulary from a GGUF file's tokenizer metadata or from
// any tokenizer file format the tokenizer package reads.
func ReadVocab(path string) (*tokenizer.Vocab, error) {
	isGGUF, err := hasGGUFMagic(path)
	if err != nil {
		return nil, err
	}
	if !isGGUF {
		return tokenizer.ReadVocabFile(path)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// hasGGUFMagic reports whether the file at path starts with "GGUF".
func hasGGUFMagic(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var head [4]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return false, nil
		}
		return false, err
	}
	return bytes.Equal(head[:], []byte("GGUF")), nil
}

// vocabKV is one tokenizer metadata pair.
type vocabKV struct {
	key   string
	value any
}

// vocabMetadata converts a vocabulary to GGUF tokenizer.ggml.* metadata, as
// llama.cpp reads it: "llama" (tokens, scores, types) for SentencePiece and
// "gpt2" (tokens, types, merges, pre-tokenizer) for byte-level BPE.
func vocabMetadata(v *tokenizer.Vocab) ([]vocabKV, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("synth: empty vocabulary")
	}
	if v.Types != nil && len(v.Types) != n || v.Scores != nil && len(v.Scores) != n {
		return nil, fmt.Errorf("synth: vocabulary has %d tokens, %d types and %d scores", n, len(v.Types), len(v.Scores))
	}
	types := make([]int32, n)
	for i := range types {
		types[i] = int32(tokenizer.TypeNormal)
		if v.Types != nil {
			types[i] = int32(v.Types[i])
		}
	}
	var kvs []vocabKV
	switch v.Kind {
	case tokenizer.SentencePiece:
		scores := v.Scores
		if scores == nil {
			scores = make([]float32, n)
		}
		kvs = append(kvs,
			vocabKV{"tokenizer.ggml.model", "llama"},
			vocabKV{"tokenizer.ggml.tokens", v.Tokens},
			vocabKV{"tokenizer.ggml.scores", scores},
			vocabKV{"tokenizer.ggml.token_type", types},
			vocabKV{"tokenizer.ggml.add_space_prefix", v.AddSpacePrefix},
		)
	case tokenizer.ByteBPE:
		merges := v.Merges
		if merges == nil {
			merges = rankMerges(v.Tokens, types)
		}
		kvs = append(kvs,
			vocabKV{"tokenizer.ggml.model", "gpt2"},
			vocabKV{"tokenizer.ggml.pre", ggufPre(v.Pre)},
			vocabKV{"tokenizer.ggml.tokens", v.Tokens},
			vocabKV{"tokenizer.ggml.token_type", types},
			vocabKV{"tokenizer.ggml.merges", merges},
		)
	default:
		return nil, fmt.Errorf("synth: vocabulary kind %d", v.Kind)
	}
	eot := int32(-1)
	if len(v.EOT) > 0 {
		eot = v.EOT[0] // GGUF has room for one end-of-turn id
	}
	for _, s := range []vocabKV{
		{"tokenizer.ggml.bos_token_id", v.BOS},
		{"tokenizer.ggml.eos_token_id", v.EOS},
		{"tokenizer.ggml.unknown_token_id", v.UNK},
		{"tokenizer.ggml.padding_token_id", v.PAD},
		{"tokenizer.ggml.eot_token_id", eot},
	} {
		if id := s.value.(int32); id >= 0 && int(id) < n {
			kvs = append(kvs, vocabKV{s.key, uint32(id)})
		}
	}
	return append(kvs,
		vocabKV{"tokenizer.ggml.add_bos_token", v.AddBOS},
		vocabKV{"tokenizer.ggml.add_eos_token", v.AddEOS},
	), nil
}

// ggufPre names a pre-tokenizer as llama.cpp does.
func ggufPre(pre string) string {
	switch pre {
	case "", "llama3", "llama-v3":
		return "llama-bpe"
	}
	return pre
}

// rankMerges derives the merge list of a rank-ordered byte-level BPE
// vocabulary (tiktoken style, where a token's id is its merge rank). Rank BPE
// joins any two adjacent tokens whose concatenation is a token, lowest rank
// first, so every split of a token into two lower-ranked tokens is a merge,
// ranked with that token (splits of one token ordered by their parts' ids).
// Control and user-defined tokens are never merge results.
func rankMerges(tokens []string, types []int32) []string {
	ids := make(map[string]int, len(tokens))
	for i, t := range tokens {
		if _, dup := ids[t]; !dup {
			ids[t] = i
		}
	}
	type split struct{ left, right int }
	var merges []string
	var splits []split
	for id, tok := range tokens {
		if t := tokenizer.TokenType(types[id]); t == tokenizer.TypeControl || t == tokenizer.TypeUserDefined {
			continue
		}
		splits = splits[:0]
		for k := range tok {
			if k == 0 {
				continue
			}
			l, lok := ids[tok[:k]]
			r, rok := ids[tok[k:]]
			if lok && rok && l < id && r < id {
				splits = append(splits, split{l, r})
			}
		}
		slices.SortFunc(splits, func(a, b split) int {
			return cmp.Or(cmp.Compare(a.left, b.left), cmp.Compare(a.right, b.right))
		})
		for _, sp := range splits {
			merges = append(merges, tokens[sp.left]+" "+tokens[sp.right])
		}
	}
	return merges
}
