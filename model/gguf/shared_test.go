package gguf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/model"
	"sieve/model/gguf"
)

// legacyCheckpoint is a llama2.c legacy checkpoint split into its arrays.
type legacyCheckpoint struct {
	dim, hidden, layers, heads, kvHeads, vocab, seqLen int
	arrays                                             map[string][]byte // name -> all layers' bytes
}

// readLegacy parses a llama2.c legacy .bin file: a 7 x int32 header, then
// float32 arrays in a fixed order.
func readLegacy(t *testing.T, path string) legacyCheckpoint {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h [7]int32
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, &h); err != nil {
		t.Fatal(err)
	}
	c := legacyCheckpoint{int(h[0]), int(h[1]), int(h[2]), int(h[3]), int(h[4]), int(h[5]), int(h[6]), map[string][]byte{}}
	if c.vocab < 0 {
		t.Fatal("checkpoint with an unshared classifier")
	}
	headDim := c.dim / c.heads
	kvDim := c.kvHeads * headDim
	off := 7 * 4
	for _, a := range []struct {
		name string
		n    int
	}{
		{"token_embedding", c.vocab * c.dim},
		{"rms_att", c.layers * c.dim},
		{"wq", c.layers * c.dim * c.dim},
		{"wk", c.layers * kvDim * c.dim},
		{"wv", c.layers * kvDim * c.dim},
		{"wo", c.layers * c.dim * c.dim},
		{"rms_ffn", c.layers * c.dim},
		{"w1", c.layers * c.hidden * c.dim},
		{"w2", c.layers * c.dim * c.hidden},
		{"w3", c.layers * c.hidden * c.dim},
		{"rms_final", c.dim},
		{"freq_cis_real", c.seqLen * headDim / 2},
		{"freq_cis_imag", c.seqLen * headDim / 2},
	} {
		c.arrays[a.name] = b[off : off+4*a.n]
		off += 4 * a.n
	}
	if off != len(b) {
		t.Fatalf("legacy checkpoint has %d bytes, layout accounts for %d", len(b), off)
	}
	return c
}

// layer returns layer l's slice of an array stored for all layers.
func (c legacyCheckpoint) layer(name string, l int) []byte {
	a := c.arrays[name]
	n := len(a) / c.layers
	return a[l*n : (l+1)*n]
}

func TestStories260K(t *testing.T) {
	f, err := gguf.Open(testmodels.Path(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := readLegacy(t, testmodels.Path(t, "stories260K.bin"))

	if f.Version != 3 || len(f.Tensors) != 48 {
		t.Fatalf("version %d with %d tensors, want 3 and 48", f.Version, len(f.Tensors))
	}
	for _, ti := range f.Tensors {
		if ti.Type != gguf.TypeF32 {
			t.Errorf("tensor %s is %v, want f32", ti.Name, ti.Type)
		}
	}
	want := map[string][]byte{
		"token_embd.weight":  ref.arrays["token_embedding"],
		"output.weight":      ref.arrays["token_embedding"],
		"output_norm.weight": ref.arrays["rms_final"],
	}
	for l := range ref.layers {
		for gg, bin := range map[string]string{
			"attn_norm": "rms_att", "attn_q": "wq", "attn_k": "wk", "attn_v": "wv", "attn_output": "wo",
			"ffn_norm": "rms_ffn", "ffn_gate": "w1", "ffn_down": "w2", "ffn_up": "w3",
		} {
			want[fmt.Sprintf("blk.%d.%s.weight", l, gg)] = ref.layer(bin, l)
		}
	}
	if len(want) != 48 {
		t.Fatalf("reference names %d tensors", len(want))
	}
	for name, data := range want {
		m, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Data, data) {
			t.Errorf("tensor %s differs from the legacy checkpoint", name)
		}
	}

	m, err := f.Model()
	if err != nil {
		t.Fatal(err)
	}
	wantCfg := model.Config{
		Dim: 64, HiddenDim: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8, VocabSize: 512,
		ContextLen: 2048, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 8, RopeStyle: model.RopeAdjacent,
	}
	if m.Config != wantCfg {
		t.Errorf("config %+v\nwant   %+v", m.Config, wantCfg)
	}
	if ref.dim != 64 || ref.hidden != 172 || ref.layers != 5 || ref.heads != 8 || ref.kvHeads != 4 || ref.vocab != 512 {
		t.Errorf("legacy header %+v disagrees with the README", ref)
	}
	if m.Name != "stories260K" {
		t.Errorf("name %q", m.Name)
	}
	l4 := m.Weights.Layers[4]
	if l4.Wk.Rows != 32 || l4.Wk.Cols != 64 || l4.W2.Rows != 64 || l4.W2.Cols != 172 {
		t.Errorf("layer 4 wk %dx%d w2 %dx%d", l4.Wk.Rows, l4.Wk.Cols, l4.W2.Rows, l4.W2.Cols)
	}
	if !bytes.Equal(kernels.F32Bytes(l4.FFNNorm), ref.layer("rms_ffn", 4)) {
		t.Error("layer 4 ffn norm differs from the legacy checkpoint")
	}
	if bos, _ := f.Uint("tokenizer.ggml.bos_token_id"); bos != 1 {
		t.Errorf("bos %d, want 1", bos)
	}
}

func TestVocabOnlyFile(t *testing.T) {
	f, err := gguf.Open(testmodels.Path(t, "ggml-vocab-llama-spm.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Tensors) != 0 {
		t.Errorf("%d tensors, want 0", len(f.Tensors))
	}
	tokens, _ := f.Metadata["tokenizer.ggml.tokens"].([]string)
	scores, _ := f.Metadata["tokenizer.ggml.scores"].([]float32)
	types, _ := f.Metadata["tokenizer.ggml.token_type"].([]int32)
	if len(tokens) != 32000 || len(scores) != 32000 || len(types) != 32000 {
		t.Fatalf("%d tokens, %d scores, %d types, want 32000 each", len(tokens), len(scores), len(types))
	}
	// "Hello world" encodes to [15043, 3186] with the Llama 2 tokenizer.
	if tokens[1] != "<s>" || tokens[15043] != "▁Hello" || tokens[3186] != "▁world" || types[3] != 6 {
		t.Errorf("tokens[1] %q [15043] %q [3186] %q types[3] %d", tokens[1], tokens[15043], tokens[3186], types[3])
	}
	if kind, _ := f.String("tokenizer.ggml.model"); kind != "llama" {
		t.Errorf("tokenizer model %q", kind)
	}
	if add, ok := f.Bool("tokenizer.ggml.add_bos_token"); !add || !ok {
		t.Error("add_bos_token is not true")
	}
	if n, _ := f.Uint("llama.vocab_size"); n != 32000 {
		t.Errorf("vocab_size %d", n)
	}
	if _, err := f.Model(); !errors.Is(err, model.ErrBadModel) {
		t.Errorf("Model() of a vocabulary-only file: %v, want ErrBadModel", err)
	}
}
