package safetensors

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model"
	"sieve/tokenizer"
)

// writeTokFixture writes stories260K with the tok512 SentencePiece model.
func writeTokFixture(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stories260K-hf")
	if err := testmodels.WriteHFDir(dir, loadStories(t), testmodels.Path(t, "tok512.model"), "F32"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTokenizer(t *testing.T) {
	dir := writeTokFixture(t)
	editJSON(t, filepath.Join(dir, "generation_config.json"), func(c map[string]any) { c["eos_token_id"] = []int{2, 5} })
	m := mustLoad(t, dir)
	if m.Tokenizer == nil {
		t.Fatal("no tokenizer")
	}
	// The models README gives SentencePiece's encoding of this text.
	if got, want := m.Tokenizer.Encode("Once upon a time", tokenizer.EncodeOptions{}), []int32{403, 407, 261, 378}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got := m.Tokenizer.VocabSize(); got != 512 {
		t.Errorf("tokenizer vocab %d, want 512", got)
	}
	stops := m.Tokenizer.StopTokens()
	for _, id := range []int32{2, 5} {
		if !slices.Contains(stops, id) {
			t.Errorf("tokenizer stop tokens %v lack %d", stops, id)
		}
	}
	if !slices.Equal(m.StopTokens, []int32{2, 5}) {
		t.Errorf("model stop tokens %v, want [2 5]", m.StopTokens)
	}
}

func TestBadTokenizer(t *testing.T) {
	tests := []struct {
		name, file, text string
	}{
		{"garbage tokenizer.model", "tokenizer.model", "\x0a\xff\xff\xff\xff\xff\xff"},
		// tokenizer.json is preferred, so a broken one fails even beside a good tokenizer.model.
		{"tokenizer.json preferred", "tokenizer.json", "{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTokFixture(t)
			writeFile(t, filepath.Join(dir, tt.file), tt.text)
			m, err := LoadDir(dir)
			if err == nil {
				m.Close()
				t.Fatal("LoadDir succeeded")
			}
			if !errors.Is(err, model.ErrBadModel) && !errors.Is(err, model.ErrUnsupported) {
				t.Errorf("error %v wraps neither ErrBadModel nor ErrUnsupported", err)
			}
		})
	}
}
