package gguf_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"sieve/kernels"
	"sieve/model"
	"sieve/model/gguf"
)

// kv is one metadata pair of a test file.
type kv struct {
	key   string
	value any
}

// llamaFile is a small llama GGUF under construction: dims 64, FFN 96,
// 2 layers, 4 heads, 2 KV heads, vocab 40, untied output.
type llamaFile struct {
	kvs     []kv
	tensors []tensorCase
}

// tinyLlama returns the test model's metadata and tensors. Norm vectors hold
// F16 values 0.5, 1, 1.5, ...; matrices hold a byte pattern.
func tinyLlama() *llamaFile {
	const dim, ffn, layers, heads, kvHeads, vocab = 64, 96, 2, 4, 2, 40
	const headDim = dim / heads
	l := &llamaFile{kvs: []kv{
		{"general.architecture", "llama"},
		{"llama.embedding_length", uint32(dim)},
		{"llama.feed_forward_length", uint32(ffn)},
		{"llama.block_count", uint32(layers)},
		{"llama.attention.head_count", uint32(heads)},
		{"llama.attention.head_count_kv", uint32(kvHeads)},
		{"llama.context_length", uint32(128)},
		{"tokenizer.chat_template", "{{ messages }}"},
	}}
	norm := func(name string) tensorCase {
		data := make([]byte, 0, 2*dim)
		for i := range dim {
			h := kernels.F32ToF16(0.5 * float32(i+1))
			data = append(data, byte(h), byte(h>>8))
		}
		return tensorCase{name, gguf.TypeF16, []uint64{dim}, data}
	}
	mat := func(name string, rows, cols int) tensorCase {
		return tensorCase{name, gguf.TypeF32, []uint64{uint64(cols), uint64(rows)}, patterned(4*rows*cols, byte(len(name)))}
	}
	l.tensors = append(l.tensors, mat("token_embd.weight", vocab, dim))
	for i := range layers {
		p := fmt.Sprintf("blk.%d.", i)
		l.tensors = append(l.tensors,
			norm(p+"attn_norm.weight"),
			mat(p+"attn_q.weight", heads*headDim, dim),
			mat(p+"attn_k.weight", kvHeads*headDim, dim),
			mat(p+"attn_v.weight", kvHeads*headDim, dim),
			mat(p+"attn_output.weight", dim, heads*headDim),
			norm(p+"ffn_norm.weight"),
			mat(p+"ffn_gate.weight", ffn, dim),
			mat(p+"ffn_down.weight", dim, ffn),
			mat(p+"ffn_up.weight", ffn, dim),
		)
	}
	l.tensors = append(l.tensors, norm("output_norm.weight"), mat("output.weight", vocab, dim))
	return l
}

// set replaces (or with a nil value removes) a metadata key, appending new keys.
func (l *llamaFile) set(key string, value any) *llamaFile {
	for i, p := range l.kvs {
		if p.key == key {
			if value == nil {
				l.kvs = append(l.kvs[:i], l.kvs[i+1:]...)
			} else {
				l.kvs[i].value = value
			}
			return l
		}
	}
	if value != nil {
		l.kvs = append(l.kvs, kv{key, value})
	}
	return l
}

// tensor returns the named tensor for editing.
func (l *llamaFile) tensor(name string) *tensorCase {
	for i := range l.tensors {
		if l.tensors[i].name == name {
			return &l.tensors[i]
		}
	}
	panic("no tensor " + name)
}

// drop removes a tensor.
func (l *llamaFile) drop(name string) *llamaFile {
	for i := range l.tensors {
		if l.tensors[i].name == name {
			l.tensors = append(l.tensors[:i], l.tensors[i+1:]...)
			return l
		}
	}
	panic("no tensor " + name)
}

// open writes the file and opens it.
func (l *llamaFile) open(t *testing.T) *gguf.File {
	t.Helper()
	f, err := gguf.Open(writeTemp(t, "tiny-llama.gguf", l.bytes(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// bytes writes the file with gguf.Writer.
func (l *llamaFile) bytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for _, p := range l.kvs {
		if err := w.AddKV(p.key, p.value); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range l.tensors {
		if err := w.AddTensor(tc.name, tc.typ, tc.ne...); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range l.tensors {
		if _, err := w.Write(tc.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestModelDefaults(t *testing.T) {
	f := tinyLlama().open(t)
	m, err := f.Model()
	if err != nil {
		t.Fatal(err)
	}
	want := model.Config{
		Dim: 64, HiddenDim: 96, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16, VocabSize: 40,
		ContextLen: 128, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 16, RopeStyle: model.RopeAdjacent,
	}
	if m.Config != want {
		t.Errorf("config %+v\nwant   %+v", m.Config, want)
	}
	if m.Name != "tiny-llama" || m.Format != "gguf" || m.ChatTemplate != "{{ messages }}" || m.Closer == nil {
		t.Errorf("name %q format %q template %q closer %v", m.Name, m.Format, m.ChatTemplate, m.Closer)
	}
	if len(m.Weights.Layers) != 2 {
		t.Fatalf("%d layers", len(m.Weights.Layers))
	}
	l1 := m.Weights.Layers[1]
	shapes := []struct {
		name       string
		m          kernels.Mat
		rows, cols int
	}{
		{"token_embd", m.Weights.TokenEmbd, 40, 64},
		{"output", m.Weights.Output, 40, 64},
		{"wq", l1.Wq, 64, 64},
		{"wk", l1.Wk, 32, 64},
		{"wv", l1.Wv, 32, 64},
		{"wo", l1.Wo, 64, 64},
		{"w1", l1.W1, 96, 64},
		{"w2", l1.W2, 64, 96},
		{"w3", l1.W3, 96, 64},
	}
	for _, s := range shapes {
		if s.m.Type != kernels.F32 || s.m.Rows != s.rows || s.m.Cols != s.cols || len(s.m.Data) != 4*s.rows*s.cols {
			t.Errorf("%s: %v %dx%d (%d bytes), want f32 %dx%d", s.name, s.m.Type, s.m.Rows, s.m.Cols, len(s.m.Data), s.rows, s.cols)
		}
	}
	if !bytes.Equal(l1.W2.Data, patterned(4*64*96, byte(len("blk.1.ffn_down.weight")))) {
		t.Error("blk.1.ffn_down data differs from what was written")
	}
	if &m.Weights.Output.Data[0] == &m.Weights.TokenEmbd.Data[0] {
		t.Error("untied output shares the embedding")
	}
	for name, v := range map[string][]float32{"attn_norm": l1.AttnNorm, "ffn_norm": l1.FFNNorm, "output_norm": m.Weights.OutputNorm} {
		if len(v) != 64 || v[0] != 0.5 || v[63] != 32 {
			t.Errorf("%s = %v, want 0.5, 1, ..., 32", name, v)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestModelTiedAndExplicitKeys(t *testing.T) {
	l := tinyLlama().drop("output.weight")
	l.set("llama.attention.key_length", uint32(32)).set("llama.attention.value_length", uint32(32))
	l.set("llama.attention.head_count", uint32(2)).set("llama.attention.head_count_kv", uint32(1))
	l.set("llama.rope.dimension_count", uint32(8)).set("llama.rope.freq_base", float32(500000))
	l.set("llama.attention.layer_norm_rms_epsilon", float32(1e-6)).set("llama.vocab_size", uint32(40))
	l.set("llama.context_length", uint64(4096)).set("llama.block_count", int32(2))
	m, err := l.open(t).Model()
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Heads != 2 || c.KVHeads != 1 || c.HeadDim != 32 || c.RopeDim != 8 || c.RopeTheta != 500000 ||
		c.NormEps != 1e-6 || c.ContextLen != 4096 || c.Layers != 2 {
		t.Errorf("config %+v", c)
	}
	if &m.Weights.Output.Data[0] != &m.Weights.TokenEmbd.Data[0] || m.Weights.Output.Rows != 40 {
		t.Error("missing output.weight is not tied to the embedding")
	}
}

func TestModelErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(l *llamaFile)
		want error
		msg  string
	}{
		{"gpt2", func(l *llamaFile) { l.set("general.architecture", "gpt2") }, model.ErrUnsupported, `unknown architecture "gpt2"`},
		{"no architecture", func(l *llamaFile) { l.set("general.architecture", nil) }, model.ErrBadModel, "general.architecture"},
		{"no embedding length", func(l *llamaFile) { l.set("llama.embedding_length", nil) }, model.ErrBadModel, "missing llama.embedding_length"},
		{"string block count", func(l *llamaFile) { l.set("llama.block_count", "2") }, model.ErrBadModel, "llama.block_count"},
		{"negative context", func(l *llamaFile) { l.set("llama.context_length", int32(-1)) }, model.ErrBadModel, "llama.context_length"},
		{"absurd dimension", func(l *llamaFile) { l.set("llama.feed_forward_length", uint64(1<<40)) }, model.ErrBadModel, "feed_forward_length"},
		{"absurd block count", func(l *llamaFile) { l.set("llama.block_count", uint32(1<<29)) }, model.ErrBadModel, "llama.block_count = 536870912, want 1 to 4096"},
		// Each hyperparameter is checked, naming its key, before it is used.
		{"zero heads", func(l *llamaFile) { l.set("llama.attention.head_count", uint32(0)) }, model.ErrBadModel, "llama.attention.head_count = 0"},
		{"zero heads, explicit head width", func(l *llamaFile) {
			l.set("llama.attention.head_count", uint32(0)).set("llama.attention.key_length", uint32(16))
		}, model.ErrBadModel, "llama.attention.head_count = 0"},
		{"zero kv heads", func(l *llamaFile) { l.set("llama.attention.head_count_kv", uint32(0)) }, model.ErrBadModel, "llama.attention.head_count_kv = 0"},
		{"more kv heads than heads", func(l *llamaFile) { l.set("llama.attention.head_count_kv", uint32(8)) }, model.ErrBadModel, "llama.attention.head_count_kv = 8, want 1 to 4"},
		{"zero blocks", func(l *llamaFile) { l.set("llama.block_count", uint32(0)) }, model.ErrBadModel, "llama.block_count = 0"},
		{"blocks beyond the tensors", func(l *llamaFile) { l.set("llama.block_count", uint32(3)) }, model.ErrBadModel, "llama.block_count = 3, but the file holds tensors for 2 layers"},
		{"tensors beyond the blocks", func(l *llamaFile) { l.set("llama.block_count", uint32(1)) }, model.ErrBadModel, "llama.block_count = 1, but the file holds tensors for 2 layers"},
		{"zero embedding length", func(l *llamaFile) { l.set("llama.embedding_length", uint32(0)) }, model.ErrBadModel, "llama.embedding_length = 0"},
		{"zero feed-forward length", func(l *llamaFile) { l.set("llama.feed_forward_length", uint32(0)) }, model.ErrBadModel, "llama.feed_forward_length = 0"},
		{"feed-forward length off the tensors", func(l *llamaFile) { l.set("llama.feed_forward_length", uint32(95)) }, model.ErrBadModel, "rows llama.feed_forward_length"},
		{"head width off the tensors", func(l *llamaFile) { l.set("llama.attention.key_length", uint32(32)) }, model.ErrBadModel, `"blk.0.attn_q.weight" is 64x64, want 128x64 (rows llama.attention.head_count × llama.attention.key_length`},
		{"odd head width", func(l *llamaFile) { l.set("llama.attention.key_length", uint32(15)) }, model.ErrBadModel, "llama.attention.key_length = 15 is odd"},
		{"zero head width", func(l *llamaFile) { l.set("llama.attention.key_length", uint32(0)) }, model.ErrBadModel, "llama.attention.key_length = 0"},
		{"rope wider than the head", func(l *llamaFile) { l.set("llama.rope.dimension_count", uint32(32)) }, model.ErrBadModel, "llama.rope.dimension_count = 32, want 1 to 16"},
		{"zero rope width", func(l *llamaFile) { l.set("llama.rope.dimension_count", uint32(0)) }, model.ErrBadModel, "llama.rope.dimension_count = 0"},
		{"zero context", func(l *llamaFile) { l.set("llama.context_length", uint32(0)) }, model.ErrBadModel, "llama.context_length = 0"},
		{"absurd context", func(l *llamaFile) { l.set("llama.context_length", uint32(1<<30)) }, model.ErrBadModel, "llama.context_length = 1073741824, want 1 to 16777216"},
		{"zero rms epsilon", func(l *llamaFile) { l.set("llama.attention.layer_norm_rms_epsilon", float32(0)) }, model.ErrBadModel, "llama.attention.layer_norm_rms_epsilon = 0"},
		{"negative rope base", func(l *llamaFile) { l.set("llama.rope.freq_base", float32(-1)) }, model.ErrBadModel, "llama.rope.freq_base = -1"},
		{"nan epsilon", func(l *llamaFile) {
			l.set("llama.attention.layer_norm_rms_epsilon", float32(math.NaN()))
		}, model.ErrBadModel, "finite"},
		{"heads not divisible", func(l *llamaFile) { l.set("llama.attention.head_count_kv", uint32(3)) }, model.ErrBadModel, "llama.attention.head_count_kv = 3 does not divide llama.attention.head_count = 4"},
		{"dim not divisible by heads", func(l *llamaFile) { l.set("llama.attention.head_count", uint32(5)) }, model.ErrBadModel, "llama.embedding_length = 64 is not divisible by llama.attention.head_count = 5"},
		{"value length", func(l *llamaFile) { l.set("llama.attention.value_length", uint32(8)) }, model.ErrUnsupported, "value length"},
		{"vocab size mismatch", func(l *llamaFile) { l.set("llama.vocab_size", uint32(41)) }, model.ErrBadModel, "vocab_size"},
		{"missing tensor", func(l *llamaFile) { l.drop("blk.1.ffn_up.weight") }, model.ErrBadModel, `"blk.1.ffn_up.weight" not found`},
		{"missing embedding", func(l *llamaFile) { l.drop("token_embd.weight") }, model.ErrBadModel, "token_embd.weight"},
		{"wrong k shape", func(l *llamaFile) {
			k := l.tensor("blk.0.attn_k.weight")
			k.ne = []uint64{64, 64}
			k.data = patterned(4*64*64, 0)
		}, model.ErrBadModel, `"blk.0.attn_k.weight" is 64x64, want 32x64 (rows llama.attention.head_count_kv × head width`},
		{"wrong norm length", func(l *llamaFile) {
			n := l.tensor("output_norm.weight")
			n.ne = []uint64{32}
			n.data = n.data[:64]
		}, model.ErrBadModel, "output_norm.weight"},
		{"wrong output shape", func(l *llamaFile) {
			o := l.tensor("output.weight")
			o.ne = []uint64{64, 39}
			o.data = o.data[:4*64*39]
		}, model.ErrBadModel, "output.weight"},
		{"iq2_xxs tensor", func(l *llamaFile) {
			q := l.tensor("blk.0.attn_q.weight")
			q.typ, q.ne, q.data = gguf.TypeIQ2_XXS, []uint64{256, 16}, make([]byte, 66*16)
		}, model.ErrUnsupported, "unsupported tensor type iq2_xxs"},
		{"linear rope scaling", func(l *llamaFile) {
			l.set("llama.rope.scaling.type", "linear").set("llama.rope.scaling.factor", float32(2))
		}, model.ErrUnsupported, `rope scaling type "linear"`},
		{"llama3 scaling without original context", func(l *llamaFile) {
			l.set("llama.rope.scaling.type", "llama3").set("llama.rope.scaling.factor", float32(8))
		}, model.ErrBadModel, "original_context_length"},
		{"unrecognisable rope_freqs", func(l *llamaFile) {
			l.tensors = append(l.tensors, tensorCase{"rope_freqs.weight", gguf.TypeF32, []uint64{8},
				kernels.F32Bytes([]float32{1, 3, 1, 3, 1, 3, 1, 3})})
		}, model.ErrUnsupported, "rope_freqs"},
		// Found by FuzzLlamaKeys: NaN factors passed the fit and gave a NaN
		// llama3 scaling with an original context of -2^63.
		{"NaN rope_freqs", func(l *llamaFile) {
			l.tensors = append(l.tensors, tensorCase{"rope_freqs.weight", gguf.TypeF32, []uint64{8},
				kernels.F32Bytes([]float32{1, 1, 2, 4, 8, 16, 16, float32(math.NaN())})})
		}, model.ErrUnsupported, "rope_freqs"},
		{"NaN rope_freqs beside llama3 keys", func(l *llamaFile) {
			l.set("llama.rope.scaling.type", "llama3").set("llama.rope.scaling.factor", float32(8))
			l.set("llama.rope.scaling.original_context_length", uint32(64))
			freqs := llama3Divisors(10000, 16, 8, 1, 4, 64)
			freqs[3] = float32(math.NaN())
			l.tensors = append(l.tensors, tensorCase{"rope_freqs.weight", gguf.TypeF32, []uint64{8}, kernels.F32Bytes(freqs)})
		}, model.ErrBadModel, "rope_freqs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tinyLlama()
			tc.edit(l)
			_, err := l.open(t).Model()
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("Model() error %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

// llama3Divisors computes Llama 3.1 RoPE scaling as its definition states:
// wavelengths below orig/high keep their frequency, those above orig/low are
// divided by factor, and those between blend linearly in orig/wavelength.
func llama3Divisors(theta float64, ropeDim int, factor, low, high, orig float64) []float32 {
	out := make([]float32, ropeDim/2)
	for i := range out {
		freq := 1 / math.Pow(theta, float64(2*i)/float64(ropeDim))
		wl := 2 * math.Pi / freq
		scaled := freq / factor
		if wl < orig/high {
			scaled = freq
		} else if wl <= orig/low {
			s := (orig/wl - low) / (high - low)
			scaled = (1-s)*freq/factor + s*freq
		}
		out[i] = float32(freq / scaled)
	}
	return out
}

func TestModelRopeScaling(t *testing.T) {
	// Head dim 64 with base 500000 puts three pairs in the blended band.
	llama3 := model.RopeScaling{Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8192}
	divisors := llama3Divisors(500000, 64, 32, 1, 4, 8192)
	base := func() *llamaFile {
		l := tinyLlama()
		l.set("llama.attention.head_count", uint32(1)).set("llama.attention.head_count_kv", uint32(1))
		for i := range 2 {
			for _, n := range []string{"attn_k", "attn_v"} {
				k := l.tensor(fmt.Sprintf("blk.%d.%s.weight", i, n))
				k.ne, k.data = []uint64{64, 64}, patterned(4*64*64, 9)
			}
		}
		return l.set("llama.rope.freq_base", float32(500000))
	}
	freqsTensor := func(v []float32) tensorCase {
		return tensorCase{"rope_freqs.weight", gguf.TypeF32, []uint64{uint64(len(v))}, kernels.F32Bytes(v)}
	}
	tests := []struct {
		name string
		file func() *llamaFile
		want model.RopeScaling
		err  error
	}{
		{"none", base, model.RopeScaling{}, nil},
		{"keys", func() *llamaFile {
			return base().set("llama.rope.scaling.type", "llama3").set("llama.rope.scaling.factor", float32(32)).
				set("llama.rope.scaling.original_context_length", uint32(8192))
		}, llama3, nil},
		{"keys with frequency factors", func() *llamaFile {
			return base().set("llama.rope.scaling.type", "llama3").set("llama.rope.scaling.factor", float32(8)).
				set("llama.rope.scaling.original_context_length", uint32(4096)).
				set("llama.rope.scaling.low_freq_factor", float32(2)).set("llama.rope.scaling.high_freq_factor", float32(16))
		}, model.RopeScaling{Factor: 8, LowFreqFactor: 2, HighFreqFactor: 16, OriginalContext: 4096}, nil},
		{"rope_freqs only", func() *llamaFile {
			l := base()
			l.tensors = append(l.tensors, freqsTensor(divisors))
			return l
		}, llama3, nil},
		{"rope_freqs all ones", func() *llamaFile {
			l := base()
			l.tensors = append(l.tensors, freqsTensor(llama3Divisors(500000, 64, 1, 1, 4, 8192)))
			return l
		}, model.RopeScaling{}, nil},
		{"rope_freqs agreeing with keys", func() *llamaFile {
			l := base().set("llama.rope.scaling.type", "llama3").set("llama.rope.scaling.factor", float32(32)).
				set("llama.rope.scaling.original_context_length", uint32(8192))
			l.tensors = append(l.tensors, freqsTensor(divisors))
			return l
		}, llama3, nil},
		{"rope_freqs disagreeing with keys", func() *llamaFile {
			l := base().set("llama.rope.scaling.type", "llama3").set("llama.rope.scaling.factor", float32(16)).
				set("llama.rope.scaling.original_context_length", uint32(8192))
			l.tensors = append(l.tensors, freqsTensor(divisors))
			return l
		}, model.RopeScaling{}, model.ErrBadModel},
		{"rope_freqs wrong length", func() *llamaFile {
			l := base()
			l.tensors = append(l.tensors, freqsTensor(divisors[:16]))
			return l
		}, model.RopeScaling{}, model.ErrBadModel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.file().open(t).Model()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := m.Config.RopeScale
			if got.OriginalContext != tc.want.OriginalContext || !near(got.Factor, tc.want.Factor) ||
				!near(got.LowFreqFactor, tc.want.LowFreqFactor) || !near(got.HighFreqFactor, tc.want.HighFreqFactor) {
				t.Fatalf("rope scaling %+v, want %+v", got, tc.want)
			}
		})
	}
}

// near reports whether a and b agree to 1e-4 relative.
func near(a, b float32) bool { return math.Abs(float64(a-b)) <= 1e-4*math.Abs(float64(b)) }

// TestModelQuantizedTensors checks that quantized tensors load as matrices
// of their type, read in place, and that an embedding row of a 32-value
// block type dequantizes to its hand-computed values.
func TestModelQuantizedTensors(t *testing.T) {
	l := tinyLlama()
	// Q4_0, scale 1.0 (F16 0x3c00), every code byte 0x98: the low nibble 8
	// is value 0 (values 0-15 of a block), the high nibble 9 is value 1.
	block := append([]byte{0x00, 0x3c}, bytes.Repeat([]byte{0x98}, 16)...)
	e := l.tensor("token_embd.weight")
	e.typ, e.data = gguf.TypeQ4_0, bytes.Repeat(block, 40*2)
	q := l.tensor("blk.0.attn_q.weight")
	q.typ, q.data = gguf.TypeQ5_1, make([]byte, 24*2*64)
	m, err := l.open(t).Model()
	if err != nil {
		t.Fatal(err)
	}
	w := m.Weights
	if w.TokenEmbd.Type != kernels.Q4_0 || w.Layers[0].Wq.Type != kernels.Q5_1 || w.Layers[1].Wq.Type != kernels.F32 {
		t.Fatalf("types %v %v %v", w.TokenEmbd.Type, w.Layers[0].Wq.Type, w.Layers[1].Wq.Type)
	}
	row := make([]float32, 64)
	kernels.DequantRow(row, w.TokenEmbd, 39)
	for j, v := range row {
		if want := float32(j % 32 / 16); v != want {
			t.Fatalf("embedding value %d = %v, want %v", j, v, want)
		}
	}
}
