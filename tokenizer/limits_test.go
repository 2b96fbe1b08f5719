package tokenizer_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sieve/tokenizer"
)

// byteLevelJSON returns a byte-level tokenizer.json of n tokens "t0".."tN-1"
// whose last token has id lastID, plus the given added tokens.
func byteLevelJSON(n int, lastID int64, added ...map[string]any) map[string]any {
	vocab := map[string]int64{}
	for i := range n - 1 {
		vocab[fmt.Sprintf("t%d", i)] = int64(i)
	}
	vocab[fmt.Sprintf("t%d", n-1)] = lastID
	if added == nil {
		added = []map[string]any{}
	}
	return map[string]any{
		"added_tokens":  added,
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "use_regex": true},
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": []string{}},
	}
}

// heapGrowth returns the bytes allocated while f runs.
func heapGrowth(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkRead reads the tokenizer file at path: with want "" it must succeed;
// otherwise it must fail with ErrBadVocab mentioning want, having allocated
// less than 1 MiB (the files are a few KB).
func checkRead(t *testing.T, path, want string) {
	t.Helper()
	var err error
	grew := heapGrowth(func() { _, err = tokenizer.ReadVocabFile(path) })
	if want == "" {
		if err != nil {
			t.Fatalf("ReadVocabFile: %v", err)
		}
		return
	}
	if !errors.Is(err, tokenizer.ErrBadVocab) || !strings.Contains(err.Error(), want) {
		t.Fatalf("ReadVocabFile: %v, want ErrBadVocab mentioning %q", err, want)
	}
	if grew > 1<<20 {
		t.Errorf("rejecting the file allocated %d bytes", grew)
	}
}

// TestTokenizerJSONIDsAreBounded: ids in a tokenizer.json size the vocabulary
// only when they are dense and below MaxVocabSize; otherwise reading fails
// before the table is allocated.
func TestTokenizerJSONIDsAreBounded(t *testing.T) {
	added := func(id int64) map[string]any { return map[string]any{"id": id, "content": "<x>", "special": true} }
	tests := []struct {
		name string
		json map[string]any
		want string // "" for valid
	}{
		{"dense", byteLevelJSON(100, 99), ""},
		{"gap within twice the entries", byteLevelJSON(100, 199), ""},
		{"id near 2^31", byteLevelJSON(100, 1<<31-2), "has id 2147483646"},
		{"gap past twice the entries", byteLevelJSON(100, 200), "has id 200; ids must lie in [0, 200)"},
		{"negative id", byteLevelJSON(100, -5), "has id -5"},
		{"added token near 2^31", byteLevelJSON(100, 99, added(1<<31-1)), `added token "<x>" has id 2147483647`},
		{"added token right after", byteLevelJSON(100, 99, added(100)), ""},
		{"negative added token", byteLevelJSON(100, 99, added(-1)), "has id -1"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "tokenizer.json")
			writeJSON(t, path, tt.json)
			checkRead(t, path, tt.want)
		})
	}
}

// TestTiktokenRanksAreBounded: a rank sizes the table only when the file
// has a line for every rank below it.
func TestTiktokenRanksAreBounded(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"dense", "IQ== 0\nIg== 1\n", ""},
		{"rank 2^24 - 1", "IQ== 16777215\n", "tiktoken rank 16777215 in a file of 2 lines"},
		{"rank past the lines", "IQ== 0\nIg== 5\n", "tiktoken rank 5"},
		{"gap", "IQ== 0\nIg== 2\n\n", "not 0..1"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "tok.tiktoken")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			checkRead(t, path, tt.want)
		})
	}
}
