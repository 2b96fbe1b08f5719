package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The split patterns of the byte-level pre-tokenizers Sieve implements, as
// tokenizer.json "Split" pre-tokenizers spell them.
const (
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	gpt2Pattern   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// hfTokenizer is the part of a Hugging Face tokenizer.json that Sieve reads.
type hfTokenizer struct {
	AddedTokens []struct {
		ID      int32  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    *hfComponent `json:"normalizer"`
	PreTokenizer  *hfComponent `json:"pre_tokenizer"`
	PostProcessor *hfComponent `json:"post_processor"`
	Model         struct {
		Type         string          `json:"type"`
		Vocab        json.RawMessage `json:"vocab"`
		Merges       json.RawMessage `json:"merges"`
		ByteFallback bool            `json:"byte_fallback"`
		UnkToken     *string         `json:"unk_token"`
	} `json:"model"`
}

// hfComponent is a normalizer, pre-tokenizer or post-processor node.
type hfComponent struct {
	Type          string        `json:"type"`
	Normalizers   []hfComponent `json:"normalizers"`
	Pretokenizers []hfComponent `json:"pretokenizers"`
	Pattern       struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content        string `json:"content"`
	Prepend        string `json:"prepend"`
	AddPrefixSpace *bool  `json:"add_prefix_space"`
	PrependScheme  string `json:"prepend_scheme"`
	UseRegex       *bool  `json:"use_regex"`
	// IndividualDigits is set on a Digits pre-tokenizer that splits every digit.
	IndividualDigits *bool `json:"individual_digits"`
	Single           []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
	} `json:"single"`
}

// leaves returns the components of a Sequence tree in order.
func (c *hfComponent) leaves() []hfComponent {
	if c == nil {
		return nil
	}
	if c.Type != "Sequence" {
		return []hfComponent{*c}
	}
	var out []hfComponent
	for _, list := range [][]hfComponent{c.Normalizers, c.Pretokenizers} {
		for i := range list {
			out = append(out, list[i].leaves()...)
		}
	}
	return out
}

// hfTokenizerConfig is the part of tokenizer_config.json that Sieve reads.
type hfTokenizerConfig struct {
	BOSToken    json.RawMessage `json:"bos_token"`
	EOSToken    json.RawMessage `json:"eos_token"`
	AddBOSToken *bool           `json:"add_bos_token"`
	AddEOSToken *bool           `json:"add_eos_token"`
}

// tokenName reads a tokenizer_config.json token: a string or {"content": ...}.
func tokenName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

// parseHFTokenizerJSON reads a Hugging Face tokenizer.json with a BPE model:
// byte-level (ByteLevel pre-tokenizer, Llama 3 or GPT-2 split) or
// SentencePiece-style ("▁" for spaces, byte fallback; scores are derived from
// the merge order). config is the tokenizer_config.json beside it, or nil.
func parseHFTokenizerJSON(data, config []byte) (*Vocab, error) {
	var hf hfTokenizer
	if err := json.Unmarshal(data, &hf); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %w", ErrBadVocab, err)
	}
	if hf.Model.Type != "BPE" && !(hf.Model.Type == "" && hf.Model.Merges != nil) {
		return nil, fmt.Errorf("%w: tokenizer.json model type %q", ErrUnsupported, hf.Model.Type)
	}
	var vocab map[string]int32
	if err := json.Unmarshal(hf.Model.Vocab, &vocab); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json model.vocab: %w", ErrBadVocab, err)
	}
	merges, err := hfMerges(hf.Model.Merges)
	if err != nil {
		return nil, err
	}
	v := &Vocab{BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	if err := hfKind(v, &hf); err != nil {
		return nil, err
	}
	n, err := hfVocabSize(vocab, &hf)
	if err != nil {
		return nil, err
	}
	v.Tokens = make([]string, n)
	v.Types = make([]TokenType, n)
	for i := range v.Types {
		v.Types[i] = TypeUnused // ids no entry names
	}
	for text, id := range vocab {
		v.Tokens[id] = text
		v.Types[id] = TypeNormal
		if _, ok := parseByteToken(text); ok && v.Kind == SentencePiece && hf.Model.ByteFallback {
			v.Types[id] = TypeByte
		}
	}
	for _, a := range hf.AddedTokens {
		v.Tokens[a.ID] = a.Content
		v.Types[a.ID] = TypeUserDefined
		if a.Special {
			v.Types[a.ID] = TypeControl
		}
	}
	byText := make(map[string]int32, n)
	for id, t := range v.Tokens {
		if _, dup := byText[t]; !dup && v.Types[id] != TypeUnused {
			byText[t] = int32(id)
		}
	}
	if hf.Model.UnkToken != nil {
		if id, ok := byText[*hf.Model.UnkToken]; ok {
			v.UNK = id
			v.Types[id] = TypeUnknown
		}
	}
	if v.Kind == SentencePiece {
		v.Scores = scoresFromMerges(v.Tokens, byText, merges)
	} else {
		v.Merges = make([]string, len(merges))
		for i, m := range merges {
			v.Merges[i] = m[0] + " " + m[1]
		}
	}
	hfSpecials(v, &hf, config, byText)
	return v, nil
}

// hfVocabSize returns the number of ids of a tokenizer.json vocabulary: its
// largest id plus one. Ids come from the file, so before anything is sized
// from them each must be non-negative, below MaxVocabSize, and the ids dense
// enough that the vocabulary is at most twice the entries that name them
// (real files have no gaps at all; Hugging Face's tokenizers would size a
// table the same way), so a small file cannot ask for a huge allocation.
func hfVocabSize(vocab map[string]int32, hf *hfTokenizer) (int, error) {
	entries := len(vocab) + len(hf.AddedTokens)
	limit := min(2*entries, MaxVocabSize)
	n := 0
	check := func(what, text string, id int32) error {
		if id < 0 || int(id) >= limit {
			return fmt.Errorf("%w: tokenizer.json %s %q has id %d; ids must lie in [0, %d) for %d entries (at most %d)",
				ErrBadVocab, what, text, id, limit, entries, MaxVocabSize)
		}
		n = max(n, int(id)+1)
		return nil
	}
	for text, id := range vocab {
		if err := check("token", text, id); err != nil {
			return 0, err
		}
	}
	for _, a := range hf.AddedTokens {
		if err := check("added token", a.Content, a.ID); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// hfKind sets v's kind, pre-tokenizer and space prefix from the
// normalizer and pre-tokenizer of a tokenizer.json.
func hfKind(v *Vocab, hf *hfTokenizer) error {
	var byteLevel, metaspace, digits bool
	var splits []string
	for _, c := range append(hf.Normalizer.leaves(), hf.PreTokenizer.leaves()...) {
		switch c.Type {
		case "ByteLevel":
			byteLevel = true
			if c.UseRegex == nil || *c.UseRegex {
				splits = append(splits, gpt2Pattern)
			}
		case "Split":
			if c.Pattern.Regex != nil {
				splits = append(splits, *c.Pattern.Regex)
			} else if c.Pattern.String != nil {
				splits = append(splits, *c.Pattern.String)
			}
		case "Digits":
			if c.IndividualDigits == nil || !*c.IndividualDigits {
				return fmt.Errorf("%w: tokenizer.json Digits pre-tokenizer that keeps runs of digits together", ErrUnsupported)
			}
			digits = true
		case "Metaspace":
			metaspace = true
			if c.PrependScheme == "first" || c.PrependScheme == "always" || (c.PrependScheme == "" && c.AddPrefixSpace != nil && *c.AddPrefixSpace) {
				v.AddSpacePrefix = true
			}
		case "Prepend":
			if c.Prepend == "▁" {
				v.AddSpacePrefix = true
			}
		case "Replace":
			if c.Content == "▁" {
				metaspace = true
			}
		}
	}
	switch {
	case byteLevel:
		v.Kind = ByteBPE
		if len(splits) != 1 {
			return fmt.Errorf("%w: tokenizer.json byte-level pre-tokenizer with %d split patterns", ErrUnsupported, len(splits))
		}
		switch splits[0] {
		case llama3Pattern:
			if digits {
				return fmt.Errorf("%w: tokenizer.json Digits pre-tokenizer before the Llama 3 pattern", ErrUnsupported)
			}
			v.Pre = "llama3"
		case gpt2Pattern:
			v.Pre = "gpt2"
			if digits {
				v.Pre = "smollm"
			}
		default:
			return fmt.Errorf("%w: tokenizer.json split pattern %q", ErrUnsupported, splits[0])
		}
	case metaspace || hf.Model.ByteFallback:
		v.Kind = SentencePiece
	default:
		return fmt.Errorf("%w: tokenizer.json BPE model that is neither byte-level nor SentencePiece-style", ErrUnsupported)
	}
	return nil
}

// hfMerges reads model.merges, given as "left right" strings or as
// [left, right] pairs.
func hfMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		merges := make([][2]string, len(pairs))
		for i, p := range pairs {
			if len(p) != 2 {
				return nil, fmt.Errorf("%w: tokenizer.json merge %d has %d parts", ErrBadVocab, i, len(p))
			}
			merges[i] = [2]string{p[0], p[1]}
		}
		return merges, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json merges: %w", ErrBadVocab, err)
	}
	merges := make([][2]string, len(lines))
	for i, s := range lines {
		left, right, ok := strings.Cut(s, " ")
		if !ok {
			return nil, fmt.Errorf("%w: tokenizer.json merge %q has no space", ErrBadVocab, s)
		}
		merges[i] = [2]string{left, right}
	}
	return merges, nil
}

// scoresFromMerges gives SentencePiece scores that reproduce a merge list:
// the token made by merge rank r scores -r, so earlier merges win; tokens no
// merge makes score below all of them.
func scoresFromMerges(tokens []string, byText map[string]int32, merges [][2]string) []float32 {
	scores := make([]float32, len(tokens))
	for id := range scores {
		scores[id] = -float32(len(merges) + id)
	}
	made := make([]bool, len(tokens))
	for rank, m := range merges {
		if id, ok := byText[m[0]+m[1]]; ok && !made[id] {
			made[id] = true
			scores[id] = -float32(rank)
		}
	}
	return scores
}

// hfSpecials sets BOS, EOS and whether to add them, from
// tokenizer_config.json when given, else from the post-processor template
// and well-known token names.
func hfSpecials(v *Vocab, hf *hfTokenizer, config []byte, byText map[string]int32) {
	var cfg hfTokenizerConfig
	if config != nil && json.Unmarshal(config, &cfg) != nil {
		cfg = hfTokenizerConfig{}
	}
	if id, ok := byText[tokenName(cfg.BOSToken)]; ok && len(cfg.BOSToken) > 0 {
		v.BOS = id
	}
	if id, ok := byText[tokenName(cfg.EOSToken)]; ok && len(cfg.EOSToken) > 0 {
		v.EOS = id
	}
	templateBOS := int32(-1)
	if pp := hf.PostProcessor; pp != nil {
		for _, c := range pp.leaves() {
			if c.Type == "TemplateProcessing" && len(c.Single) > 0 && c.Single[0].SpecialToken != nil {
				if id, ok := byText[c.Single[0].SpecialToken.ID]; ok {
					templateBOS = id
				}
			}
		}
	}
	if v.BOS < 0 {
		v.BOS = templateBOS
	}
	if v.BOS < 0 {
		v.BOS = firstPresent(byText, "<|begin_of_text|>", "<s>")
	}
	if v.EOS < 0 {
		v.EOS = firstPresent(byText, "<|end_of_text|>", "</s>", "<|endoftext|>")
	}
	v.AddBOS = templateBOS >= 0
	if cfg.AddBOSToken != nil {
		v.AddBOS = *cfg.AddBOSToken
	}
	if cfg.AddEOSToken != nil {
		v.AddEOS = *cfg.AddEOSToken
	}
	if id, ok := byText["<|eot_id|>"]; ok && v.Types[id] == TypeControl {
		v.EOT = append(v.EOT, id)
	}
}

// firstPresent returns the id of the first of names in the vocab, or -1.
func firstPresent(byText map[string]int32, names ...string) int32 {
	for _, name := range names {
		if id, ok := byText[name]; ok {
			return id
		}
	}
	return -1
}
