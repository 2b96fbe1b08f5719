package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"sieve/model"
)

// stopTokens collects the eos_token_id values of generation_config.json
// (optional) and config.json, without repeats.
func stopTokens(dir string, hc *hfConfig, vocab int) ([]int32, error) {
	var gen struct {
		EOSTokenID json.RawMessage `json:"eos_token_id"`
	}
	if err := readJSON(filepath.Join(dir, "generation_config.json"), &gen); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var stops []int32
	for _, raw := range []json.RawMessage{gen.EOSTokenID, hc.EOSTokenID} {
		ids, err := tokenIDs(raw)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if id < 0 || int(id) >= vocab {
				return nil, fmt.Errorf("%w: eos_token_id %d outside the %d-token vocabulary", model.ErrBadModel, id, vocab)
			}
			if !slices.Contains(stops, id) {
				stops = append(stops, id)
			}
		}
	}
	return stops, nil
}

// tokenizerConfig is the part of tokenizer_config.json that Sieve reads.
type tokenizerConfig struct {
	ChatTemplate json.RawMessage `json:"chat_template"`
	AddBOSToken  *bool           `json:"add_bos_token"`
	AddEOSToken  *bool           `json:"add_eos_token"`
}

// readTokenizerConfig reads tokenizer_config.json; a missing file reads as empty.
func readTokenizerConfig(dir string) (tokenizerConfig, error) {
	var tc tokenizerConfig
	err := readJSON(filepath.Join(dir, "tokenizer_config.json"), &tc)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return tc, err
	}
	return tc, nil
}

// chatTemplate returns the default chat template of tokenizer_config.json:
// either a string or a list of {name, template} objects.
func (tc tokenizerConfig) chatTemplate() (string, error) {
	raw := tc.ChatTemplate
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", fmt.Errorf("%w: chat_template: %w", model.ErrBadModel, err)
	}
	for _, t := range named {
		if t.Name == "default" {
			return t.Template, nil
		}
	}
	if len(named) > 0 {
		return named[0].Template, nil
	}
	return "", nil
}
