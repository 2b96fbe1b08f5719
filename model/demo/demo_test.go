package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"unsafe"
)

func TestEmbeddedBytesMatchChecksum(t *testing.T) {
	sum := sha256.Sum256(GGUF())
	if got := hex.EncodeToString(sum[:]); got != SHA256 {
		t.Fatalf("embedded stories260K.gguf has sha256 %s, want %s", got, SHA256)
	}
}

func TestReadmeStatesChecksum(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), SHA256) {
		t.Errorf("README.md does not state the sha256 %s", SHA256)
	}
	if _, err := os.Stat("LICENSE"); err != nil {
		t.Errorf("the demo model's licence text is missing: %v", err)
	}
}

func TestGGUFIsAlignedCopy(t *testing.T) {
	a, b := GGUF(), GGUF()
	if p := uintptr(unsafe.Pointer(&a[0])); p%64 != 0 {
		t.Errorf("GGUF() starts at %#x, not 64-byte aligned", p)
	}
	a[0] = 'X'
	if b[0] != 'G' {
		t.Errorf("two GGUF() results share memory")
	}
}

func TestOpenLoadsStories260K(t *testing.T) {
	m, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := m.Config
	// The shape stated in README.md (and llama2.c's stories260K config).
	if c.Dim != 64 || c.Layers != 5 || c.Heads != 8 || c.KVHeads != 4 || c.VocabSize != 512 {
		t.Errorf("config dim %d layers %d heads %d kv %d vocab %d, want 64 5 8 4 512",
			c.Dim, c.Layers, c.Heads, c.KVHeads, c.VocabSize)
	}
	if m.Name != Name || m.Tokenizer == nil {
		t.Errorf("name %q tokenizer %v, want %q with a tokenizer", m.Name, m.Tokenizer, Name)
	}
}
