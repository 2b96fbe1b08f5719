package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sieve/internal/testmodels"
)

// patchU32Key returns a copy of a GGUF file with the uint32 value of key set
// to v, found by its encoding (a uint64 length, the key, value type 4).
func patchU32Key(t *testing.T, file []byte, key string, v uint32) []byte {
	t.Helper()
	enc := binary.LittleEndian.AppendUint64(nil, uint64(len(key)))
	enc = binary.LittleEndian.AppendUint32(append(enc, key...), 4)
	i := bytes.Index(file, enc)
	if i < 0 {
		t.Fatalf("no uint32 key %s in the file", key)
	}
	out := bytes.Clone(file)
	binary.LittleEndian.PutUint32(out[i+len(enc):], v)
	return out
}

// TestRunBadHyperparameters: a GGUF with a zeroed or absurd hyperparameter
// makes `sieve run` print one line naming the key and exit 1, not panic.
func TestRunBadHyperparameters(t *testing.T) {
	whole, err := os.ReadFile(testmodels.Path(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		v    uint32
		want string
	}{
		{"llama.attention.head_count", 0, "llama.attention.head_count = 0"},
		{"llama.attention.head_count_kv", 0, "llama.attention.head_count_kv = 0"},
		{"llama.attention.head_count_kv", 3, "llama.attention.head_count_kv = 3 does not divide"},
		{"llama.block_count", 0, "llama.block_count = 0"},
		{"llama.block_count", 9, "llama.block_count = 9, but the file holds tensors for 5 layers"},
		{"llama.embedding_length", 0, "llama.embedding_length = 0"},
		{"llama.feed_forward_length", 0, "llama.feed_forward_length = 0"},
		{"llama.rope.dimension_count", 64, "llama.rope.dimension_count = 64"},
		{"llama.context_length", 0, "llama.context_length = 0"},
		{"llama.context_length", 1 << 30, "llama.context_length = 1073741824"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			path := filepath.Join(dir, "bad.gguf")
			if err := os.WriteFile(path, patchU32Key(t, whole, tt.key, tt.v), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := sieve("run", "-m", path, "-p", "hi", "-n", "1")
			if code != 1 || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit 1 and one line with %q", code, errOut, tt.want)
			}
		})
	}
}

// TestRunTokenizerIDNear2To31: a small tokenizer.json with one id near 2^31
// is refused in one line, instead of sizing a 32 GiB vocabulary.
func TestRunTokenizerIDNear2To31(t *testing.T) {
	var vocab strings.Builder
	for i := range 99 {
		fmt.Fprintf(&vocab, `"t%d": %d, `, i, i)
	}
	tok := `{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "merges": [], "vocab": {` +
		vocab.String() + `"t99": 2147483646}}}`
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := sieve("run", "-m", testmodels.Path(t, "stories260K.bin"), "-z", path, "-p", "hi", "-n", "1")
	if code != 1 || !strings.Contains(errOut, `token "t99" has id 2147483646`) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line naming the id", code, errOut)
	}
}
