package gguf

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"sieve/kernels"
	"sieve/model"
	"sieve/tokenizer"
)

// miniLlama returns a complete llama GGUF small enough to mutate quickly:
// width 8, two heads of 4, one KV head, FFN 16, one layer, all F32, a
// 4-token vocabulary and the tokenizer metadata tok gives. extra holds
// key, value pairs that replace the defaults or follow them.
func miniLlama(tb testing.TB, tok map[string]any, extra ...any) []byte {
	tb.Helper()
	return miniLlamaWith(tb, tok, nil, extra...)
}

// miniLlamaFreqs is miniLlama with a rope_freqs.weight tensor of two F32 values.
func miniLlamaFreqs(tb testing.TB, freqs []byte, extra ...any) []byte {
	tb.Helper()
	return miniLlamaWith(tb, nil, freqs, extra...)
}

// miniLlamaWith builds miniLlama's file, with a rope_freqs tensor unless freqs is nil.
func miniLlamaWith(tb testing.TB, tok map[string]any, freqs []byte, extra ...any) []byte {
	tb.Helper()
	const dim, ffn, vocab = 8, 16, 4
	var buf bytes.Buffer
	w := NewWriter(&buf)
	kvs := []any{
		"general.architecture", "llama",
		"llama.embedding_length", uint32(dim),
		"llama.feed_forward_length", uint32(ffn),
		"llama.block_count", uint32(1),
		"llama.attention.head_count", uint32(2),
		"llama.attention.head_count_kv", uint32(1),
		"llama.context_length", uint32(64),
		"llama.rope.dimension_count", uint32(4),
	}
	for k, v := range tok {
		kvs = append(kvs, k, v)
	}
	for i := 0; i < len(extra); i += 2 {
		if j := slices.Index(kvs, extra[i]); j >= 0 && j%2 == 0 {
			kvs[j+1] = extra[i+1]
		} else {
			kvs = append(kvs, extra[i], extra[i+1])
		}
	}
	for i := 0; i < len(kvs); i += 2 {
		if err := w.AddKV(kvs[i].(string), kvs[i+1]); err != nil {
			tb.Fatal(err)
		}
	}
	tensors := []struct {
		name       string
		rows, cols uint64
	}{
		{"token_embd.weight", vocab, dim},
		{"blk.0.attn_norm.weight", 1, dim},
		{"blk.0.attn_q.weight", dim, dim},
		{"blk.0.attn_k.weight", 4, dim},
		{"blk.0.attn_v.weight", 4, dim},
		{"blk.0.attn_output.weight", dim, dim},
		{"blk.0.ffn_norm.weight", 1, dim},
		{"blk.0.ffn_gate.weight", ffn, dim},
		{"blk.0.ffn_down.weight", dim, ffn},
		{"blk.0.ffn_up.weight", ffn, dim},
		{"output_norm.weight", 1, dim},
	}
	size := 0
	for _, t := range tensors {
		ne := []uint64{t.cols, t.rows}
		if t.rows == 1 {
			ne = ne[:1]
		}
		if err := w.AddTensor(t.name, TypeF32, ne...); err != nil {
			tb.Fatal(err)
		}
		size += int(4 * t.rows * t.cols)
	}
	data := make([]byte, size)
	for i := 3; i < len(data); i += 4 {
		data[i] = 0x3c // small positive floats
	}
	if freqs != nil {
		if err := w.AddTensor(ropeFreqsTensor, TypeF32, uint64(len(freqs)/4)); err != nil {
			tb.Fatal(err)
		}
		data = append(data, freqs...)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// Tokenizer metadata of the seeds: a SentencePiece and a byte-level vocabulary.
var (
	spmSeed = map[string]any{
		"tokenizer.ggml.model":      "llama",
		"tokenizer.ggml.tokens":     []string{"<unk>", "<s>", "</s>", "▁a"},
		"tokenizer.ggml.scores":     []float32{0, 0, 0, -1},
		"tokenizer.ggml.token_type": []int32{2, 3, 3, 1},
	}
	bpeSeed = map[string]any{
		"tokenizer.ggml.model":        "gpt2",
		"tokenizer.ggml.pre":          "llama-bpe",
		"tokenizer.ggml.tokens":       []string{"a", "b", "ab", "<|end|>"},
		"tokenizer.ggml.token_type":   []int32{1, 1, 1, 3},
		"tokenizer.ggml.merges":       []string{"a b"},
		"tokenizer.ggml.eos_token_id": uint32(3),
	}
)

// FuzzParse feeds arbitrary bytes to the GGUF reader (header, metadata,
// tensor table, offsets, alignment, element counts), then to the model and
// tokenizer builders. Nothing may panic; every error wraps a sentinel; what
// is accepted must be consistent with the bytes it came from.
func FuzzParse(f *testing.F) {
	f.Add(miniLlama(f, spmSeed))
	f.Add(miniLlama(f, bpeSeed))
	f.Add(miniLlama(f, spmSeed, "general.alignment", uint32(64), "llama.attention.key_length", uint32(4)))
	f.Add(miniLlama(f, nil, "nested", []any{[]uint8{1}, []any{[]string{"x"}}}, "llama.vocab_size", uint64(4)))
	f.Add([]byte("GGUF"))
	// The hyperparameter recipes, each refused with an error naming the key.
	for _, bad := range []struct {
		key   string
		value any
	}{
		{"llama.attention.head_count", uint32(0)},
		{"llama.attention.head_count_kv", uint32(0)},
		{"llama.attention.head_count_kv", uint32(3)},
		{"llama.block_count", uint32(0)},
		{"llama.block_count", uint32(2)},
		{"llama.embedding_length", uint32(0)},
		{"llama.feed_forward_length", uint32(0)},
		{"llama.attention.key_length", uint32(8)},
		{"llama.rope.dimension_count", uint32(8)},
		{"llama.context_length", uint32(0)},
		{"llama.context_length", uint64(1 << 40)},
	} {
		data := miniLlama(f, spmSeed, bad.key, bad.value)
		gf, err := parse(data)
		if err == nil {
			_, err = gf.Model()
		}
		if !errors.Is(err, model.ErrBadModel) || !strings.Contains(err.Error(), bad.key) {
			f.Fatalf("%s = %v: %v, want ErrBadModel naming the key", bad.key, bad.value, err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		gf, err := parse(data)
		if err != nil {
			if !errors.Is(err, model.ErrBadModel) && !errors.Is(err, model.ErrUnsupported) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		for _, ti := range gf.Tensors {
			if m, err := gf.Tensor(ti.Name); err == nil && len(m.Data) != int(ti.Size) {
				t.Fatalf("tensor %q: %d bytes, want %d", ti.Name, len(m.Data), ti.Size)
			}
		}
		if m, err := gf.Model(); err == nil {
			checkModel(t, m)
		} else if !errors.Is(err, model.ErrBadModel) && !errors.Is(err, model.ErrUnsupported) {
			t.Fatalf("Model error %v wraps neither sentinel", err)
		}
		if _, ok := gf.Metadata["tokenizer.ggml.model"]; ok {
			fuzzTokenizer(t, gf.Metadata)
		}
	})
}

// FuzzLlamaKeys sets the llama.* hyperparameters of a valid file to
// arbitrary values, and its rope_freqs tensor to arbitrary floats, which
// byte mutations of a whole file rarely reach: the checks must refuse every
// combination the tensors do not fit, naming a key, without a panic.
func FuzzLlamaKeys(f *testing.F) {
	f.Add(uint32(8), uint32(16), uint32(1), uint32(2), uint32(1), uint32(4), uint32(4), uint32(64), []byte(nil))
	f.Add(uint32(8), uint32(16), uint32(1), uint32(0), uint32(1), uint32(4), uint32(4), uint32(64), []byte(nil))
	f.Add(uint32(8), uint32(16), uint32(1), uint32(2), uint32(1), uint32(4), uint32(4), uint32(64), kernels.F32Bytes([]float32{1, 8}))
	f.Fuzz(func(t *testing.T, dim, ffn, layers, heads, kvHeads, keyLen, ropeDim, ctx uint32, freqs []byte) {
		extra := []any{
			"llama.embedding_length", dim, "llama.feed_forward_length", ffn, "llama.block_count", layers,
			"llama.attention.head_count", heads, "llama.attention.head_count_kv", kvHeads,
			"llama.attention.key_length", keyLen, "llama.rope.dimension_count", ropeDim, "llama.context_length", ctx,
		}
		var data []byte
		if len(freqs) == 8 {
			data = miniLlamaFreqs(t, freqs, extra...)
		} else {
			data = miniLlama(t, nil, extra...)
		}
		gf, err := parse(data)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		m, err := gf.Model()
		if err != nil {
			if !errors.Is(err, model.ErrBadModel) && !errors.Is(err, model.ErrUnsupported) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		checkModel(t, m)
	})
}

// checkModel checks that an accepted model's weights have the shapes its
// configuration gives.
func checkModel(t *testing.T, m *model.Model) {
	t.Helper()
	c := m.Config
	if err := c.Validate(); err != nil {
		t.Fatalf("accepted an invalid config: %v", err)
	}
	if len(m.Weights.Layers) != c.Layers || len(m.Weights.OutputNorm) != c.Dim {
		t.Fatalf("%d layers, output norm %d for %+v", len(m.Weights.Layers), len(m.Weights.OutputNorm), c)
	}
	s := c.Shapes(model.Keys{})
	for _, l := range m.Weights.Layers {
		for _, w := range []struct {
			rows, cols int
			want       model.Shape
		}{{l.Wq.Rows, l.Wq.Cols, s.Wq}, {l.Wk.Rows, l.Wk.Cols, s.Wk}, {l.W2.Rows, l.W2.Cols, s.W2}} {
			if err := w.want.Check("layer weight", w.rows, w.cols); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fuzzTokenizer builds the tokenizer the metadata describes, if it is valid,
// and runs it once.
func fuzzTokenizer(t *testing.T, md map[string]any) {
	t.Helper()
	v, err := tokenizer.FromGGUF(md)
	if err != nil {
		if !errors.Is(err, tokenizer.ErrBadVocab) && !errors.Is(err, tokenizer.ErrUnsupported) {
			t.Fatalf("FromGGUF error %v wraps neither sentinel", err)
		}
		return
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		return
	}
	ids := tok.Encode("a b ab\n<|end|> é", tokenizer.EncodeOptions{AddBOS: true, ParseSpecial: true})
	for _, id := range ids {
		if id < 0 || int(id) >= tok.VocabSize() {
			t.Fatalf("Encode gave id %d of %d", id, tok.VocabSize())
		}
	}
	_ = tok.Decode(ids)
}
