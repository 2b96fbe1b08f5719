package llama_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/llama"
	"sieve/model"
	"sieve/model/load"
	"sieve/tokenizer"
)

// greedy generates up to n tokens after prompt with an F32 dense cache and
// returns the generated ids and the full text (prompt included), printed
// the way llama2.c prints it.
func greedy(t *testing.T, m *model.Model, prompt string, n int) ([]int32, string) {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	tok := m.Tokenizer
	ids := tok.Encode(prompt, tokenizer.EncodeOptions{AddBOS: true})
	runner := llama.NewRunner(m, pool, 64)
	cache := llama.NewDenseCache(m.Config, pool, 1, m.Config.ContextLen)
	var text strings.Builder
	prev := int32(-1)
	for _, id := range ids {
		text.Write(tok.Piece(prev, id))
		prev = id
	}
	var out []int32
	err := runner.Generate(context.Background(), cache, ids, n, engine.Argmax, func(id int32) bool {
		if slices.Contains(tok.StopTokens(), id) {
			return false
		}
		out = append(out, id)
		text.Write(tok.Piece(prev, id))
		prev = id
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, text.String()
}

func TestStories260KMatchesLlama2c(t *testing.T) {
	ref, err := os.ReadFile(testmodels.ReferencePath(t, "stories260K-greedy-once-upon-a-time.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := string(ref[:500])
	cases := []struct {
		name, model, tokenizer string
	}{
		{"llama2c legacy", "stories260K.bin", "tok512.bin"},
		{"llama2c v1", "stories260K-v1.bin", "tok512.bin"},
		{"gguf", "stories260K.gguf", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tokPath := ""
			if c.tokenizer != "" {
				tokPath = testmodels.Path(t, c.tokenizer)
			}
			m, err := load.Open(testmodels.Path(t, c.model), tokPath)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			_, got := greedy(t, m, "Once upon a time", 240)
			if len(got) < 500 || got[:500] != want {
				t.Errorf("greedy text differs from llama2.c's\n got: %q\nwant: %q", got[:min(len(got), 500)], want)
			}
		})
	}
}

func TestHuggingFaceDirMatchesLlama2c(t *testing.T) {
	bin, err := load.Open(testmodels.Path(t, "stories260K.bin"), testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	want, _ := greedy(t, bin, "Once upon a time", 200)

	dir := filepath.Join(t.TempDir(), "stories260K-hf")
	if err := testmodels.WriteHFDir(dir, bin, testmodels.Path(t, "tok512.model"), "F32"); err != nil {
		t.Fatal(err)
	}
	hf, err := load.Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	if hf.Config.RopeStyle != model.RopeHalf {
		t.Fatalf("HF directory loaded with rope style %v, want rotate-half", hf.Config.RopeStyle)
	}
	got, _ := greedy(t, hf, "Once upon a time", 200)
	if !slices.Equal(got, want) {
		t.Errorf("HF greedy tokens differ from the .bin's:\n got %v\nwant %v", got, want)
	}
}
