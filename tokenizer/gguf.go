package tokenizer

import (
	"fmt"
	"math"
)

// GGUF metadata keys of the tokenizer.
const (
	ggufModel          = "tokenizer.ggml.model"
	ggufPre            = "tokenizer.ggml.pre"
	ggufTokens         = "tokenizer.ggml.tokens"
	ggufScores         = "tokenizer.ggml.scores"
	ggufTokenType      = "tokenizer.ggml.token_type"
	ggufMerges         = "tokenizer.ggml.merges"
	ggufBOS            = "tokenizer.ggml.bos_token_id"
	ggufEOS            = "tokenizer.ggml.eos_token_id"
	ggufEOT            = "tokenizer.ggml.eot_token_id"
	ggufEOM            = "tokenizer.ggml.eom_token_id"
	ggufUNK            = "tokenizer.ggml.unknown_token_id"
	ggufPAD            = "tokenizer.ggml.padding_token_id"
	ggufAddBOS         = "tokenizer.ggml.add_bos_token"
	ggufAddEOS         = "tokenizer.ggml.add_eos_token"
	ggufAddSpacePrefix = "tokenizer.ggml.add_space_prefix"
)

// FromGGUF reads the vocabulary from GGUF metadata (the tokenizer.ggml.*
// keys). tokenizer.ggml.model "llama" is SentencePiece (tokens, scores,
// token_type) and "gpt2" byte-level BPE (tokens, token_type, merges, pre);
// other models give an error wrapping ErrUnsupported.
func FromGGUF(md map[string]any) (*Vocab, error) {
	model, ok := md[ggufModel].(string)
	if !ok {
		return nil, fmt.Errorf("%w: GGUF metadata has no %s", ErrBadVocab, ggufModel)
	}
	v := &Vocab{BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	switch model {
	case "llama":
		v.Kind = SentencePiece
		v.BOS, v.EOS, v.UNK = 1, 2, 0 // llama.cpp's defaults for SentencePiece vocabs
		v.AddBOS, v.AddSpacePrefix = true, true
	case "gpt2":
		v.Kind = ByteBPE
		v.Pre, _ = md[ggufPre].(string)
		v.AddBOS = v.Pre == "" || v.Pre == "llama3" || v.Pre == "llama-bpe" || v.Pre == "llama-v3"
	default:
		return nil, fmt.Errorf("%w model %q", ErrUnsupported, model)
	}
	tokens, ok := md[ggufTokens].([]string)
	if !ok || len(tokens) == 0 {
		return nil, fmt.Errorf("%w: GGUF %s missing or not a string array", ErrBadVocab, ggufTokens)
	}
	v.Tokens = tokens
	n := len(tokens)
	if raw, present := md[ggufScores]; present {
		scores, err := floatArray(raw)
		if err != nil || len(scores) != n {
			return nil, fmt.Errorf("%w: GGUF %s: %d values for %d tokens (%v)", ErrBadVocab, ggufScores, len(scores), n, err)
		}
		v.Scores = scores
	}
	if raw, present := md[ggufTokenType]; present {
		types, err := intArray(raw)
		if err != nil || len(types) != n {
			return nil, fmt.Errorf("%w: GGUF %s: %d values for %d tokens (%v)", ErrBadVocab, ggufTokenType, len(types), n, err)
		}
		v.Types = make([]TokenType, n)
		for i, t := range types {
			v.Types[i] = TokenType(t)
		}
	}
	if v.Kind == ByteBPE {
		merges, ok := md[ggufMerges].([]string)
		if !ok {
			return nil, fmt.Errorf("%w: GGUF %s missing or not a string array", ErrBadVocab, ggufMerges)
		}
		v.Merges = merges
	}
	if err := ggufSpecialIDs(v, md); err != nil {
		return nil, err
	}
	for key, dst := range map[string]*bool{ggufAddBOS: &v.AddBOS, ggufAddEOS: &v.AddEOS, ggufAddSpacePrefix: &v.AddSpacePrefix} {
		if raw, present := md[key]; present {
			b, ok := raw.(bool)
			if !ok {
				return nil, fmt.Errorf("%w: GGUF %s is %T, not bool", ErrBadVocab, key, raw)
			}
			*dst = b
		}
	}
	return v, nil
}

// ggufSpecialIDs reads the special token ids. BOS and EOS must lie in the
// vocabulary; an out-of-range UNK, PAD, EOT or EOM id (some converters
// write -1 or a sentinel) means none.
func ggufSpecialIDs(v *Vocab, md map[string]any) error {
	n := int64(len(v.Tokens))
	for _, s := range []struct {
		key    string
		dst    *int32
		strict bool
	}{{ggufBOS, &v.BOS, true}, {ggufEOS, &v.EOS, true}, {ggufUNK, &v.UNK, false}, {ggufPAD, &v.PAD, false}} {
		raw, present := md[s.key]
		if !present {
			if *s.dst >= int32(n) {
				*s.dst = -1
			}
			continue
		}
		id, ok := toInt64(raw)
		if !ok {
			return fmt.Errorf("%w: GGUF %s is %T, not an integer", ErrBadVocab, s.key, raw)
		}
		switch {
		case id >= 0 && id < n:
			*s.dst = int32(id)
		case s.strict:
			return fmt.Errorf("%w: GGUF %s = %d out of range [0, %d)", ErrBadVocab, s.key, id, n)
		default:
			*s.dst = -1
		}
	}
	for _, key := range []string{ggufEOT, ggufEOM} {
		raw, present := md[key]
		if !present {
			continue
		}
		id, ok := toInt64(raw)
		if !ok {
			return fmt.Errorf("%w: GGUF %s is %T, not an integer", ErrBadVocab, key, raw)
		}
		if id >= 0 && id < n {
			v.EOT = append(v.EOT, int32(id))
		}
	}
	return nil
}

// toInt64 converts any Go integer type to int64.
func toInt64(x any) (int64, bool) {
	switch x := x.(type) {
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int:
		return int64(x), true
	case uint:
		return int64(min(uint64(x), math.MaxInt64)), true
	}
	return 0, false
}

// intArray converts a GGUF integer array (any element type) to int64s.
func intArray(x any) ([]int64, error) {
	switch a := x.(type) {
	case []int32:
		return convert(a), nil
	case []uint32:
		return convert(a), nil
	case []int8:
		return convert(a), nil
	case []uint8:
		return convert(a), nil
	case []int16:
		return convert(a), nil
	case []uint16:
		return convert(a), nil
	case []int64:
		return a, nil
	case []uint64:
		return convert(a), nil
	case []any:
		out := make([]int64, len(a))
		for i, e := range a {
			v, ok := toInt64(e)
			if !ok {
				return nil, fmt.Errorf("element %d is %T, not an integer", i, e)
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T is not an integer array", x)
}

// floatArray converts a GGUF float array to float32s.
func floatArray(x any) ([]float32, error) {
	switch a := x.(type) {
	case []float32:
		return a, nil
	case []float64:
		out := make([]float32, len(a))
		for i, f := range a {
			out[i] = float32(f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T is not a float array", x)
}

// convert widens an integer slice to int64.
func convert[T int8 | uint8 | int16 | uint16 | int32 | uint32 | uint64](a []T) []int64 {
	out := make([]int64, len(a))
	for i, e := range a {
		out[i] = int64(e)
	}
	return out
}
