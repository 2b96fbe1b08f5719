package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model"
	"sieve/model/llama2c"
)

// loadStories loads the llama2.c reference model.
func loadStories(t *testing.T) *model.Model {
	t.Helper()
	m, err := llama2c.Load(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// writeFixture writes stories260K as a Hugging Face directory and returns it.
func writeFixture(t *testing.T, m *model.Model, dtype string, shards int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stories260K-hf")
	if err := testmodels.WriteHFDirShards(dir, m, "", dtype, shards); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mustLoad loads dir and closes the model when the test ends.
func mustLoad(t *testing.T, dir string) *model.Model {
	t.Helper()
	m, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

// rewriteFile replaces a safetensors file's header with edit(header) and
// pads it with spaces so that the data starts at an offset congruent to
// dataMod modulo 8 (0 keeps the usual 8-byte alignment).
func rewriteFile(t *testing.T, path string, dataMod int, edit func(h map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	data := b[8+n:]
	if edit != nil {
		edit(h)
	}
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for (8+len(hb))%8 != dataMod {
		hb = append(hb, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	out = append(append(out, hb...), data...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editJSON rewrites a JSON object file in dir.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	if b, err = json.Marshal(v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// f32At reads the float32 at index i of little-endian bytes.
func f32At(b []byte, i int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
}

// toBF16 rounds f to bfloat16 (nearest, ties to even) for finite f.
func toBF16(f float32) uint16 {
	bits := math.Float32bits(f)
	lower := bits & 0xffff
	upper := bits >> 16
	if lower > 0x8000 || (lower == 0x8000 && upper&1 == 1) {
		upper++
	}
	return uint16(upper)
}

// writeFile writes text to path.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
