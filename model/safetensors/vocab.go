package safetensors

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"sieve/model"
	"sieve/tokenizer"
)

// loadTokenizer sets the model's chat template and, when the directory has
// a tokenizer file (tokenizer.json, else tokenizer.model), its tokenizer.
// The model's stop tokens join the vocabulary's end-of-turn ids.
func loadTokenizer(dir string, m *model.Model) error {
	tc, err := readTokenizerConfig(dir)
	if err != nil {
		return err
	}
	if m.ChatTemplate, err = tc.chatTemplate(); err != nil {
		return err
	}
	if m.ChatTemplate == "" {
		b, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %w", model.ErrBadModel, err)
		}
		m.ChatTemplate = string(b)
	}
	for _, name := range []string{"tokenizer.json", "tokenizer.model"} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		v, err := tokenizer.ReadVocabFile(path)
		if err != nil {
			return tokenizerError(err)
		}
		if tc.AddBOSToken != nil {
			v.AddBOS = *tc.AddBOSToken
		}
		if tc.AddEOSToken != nil {
			v.AddEOS = *tc.AddEOSToken
		}
		addStops(v, m.StopTokens)
		if m.Tokenizer, err = tokenizer.New(v); err != nil {
			return tokenizerError(err)
		}
		return nil
	}
	return nil
}

// addStops appends to v.EOT the stop ids it does not already end on. Ids
// past the tokenizer's vocabulary (padded embedding rows) stay only in
// Model.StopTokens.
func addStops(v *tokenizer.Vocab, stops []int32) {
	for _, id := range stops {
		if id != v.EOS && int(id) < len(v.Tokens) && !slices.Contains(v.EOT, id) {
			v.EOT = append(v.EOT, id)
		}
	}
}

// tokenizerError classifies a tokenizer failure as an unsupported or an
// invalid model.
func tokenizerError(err error) error {
	if errors.Is(err, tokenizer.ErrUnsupported) {
		return fmt.Errorf("%w: %w", model.ErrUnsupported, err)
	}
	return fmt.Errorf("%w: %w", model.ErrBadModel, err)
}
