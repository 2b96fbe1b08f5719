package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"sieve/kernels"
	"sieve/model"
)

// hfStories is stories260K's configuration as a Hugging Face checkpoint.
var hfStories = model.Config{
	Dim: 64, HiddenDim: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8,
	VocabSize: 512, ContextLen: 512, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 8,
	RopeStyle: model.RopeHalf,
}

// unpermute undoes the rotate-half row order within heads of d rows:
// original row 2i is stored at row i, original row 2i+1 at row i + d/2.
func unpermute(m kernels.Mat, d int) []byte {
	rowBytes := len(m.Data) / m.Rows
	out := make([]byte, len(m.Data))
	for head := 0; head < m.Rows/d; head++ {
		for i := 0; i < d/2; i++ {
			for k, src := range []int{i, i + d/2} {
				dst := head*d + 2*i + k
				copy(out[dst*rowBytes:(dst+1)*rowBytes], m.Data[(head*d+src)*rowBytes:(head*d+src+1)*rowBytes])
			}
		}
	}
	return out
}

// wantBytes converts F32 reference bytes to the stored form of dtype.
func wantBytes(ref []byte, dtype kernels.DType) []byte {
	if dtype == kernels.F32 {
		return ref
	}
	out := make([]byte, len(ref)/2)
	for i := range len(ref) / 4 {
		binary.LittleEndian.PutUint16(out[2*i:], toBF16(f32At(ref, i)))
	}
	return out
}

// wantVec converts an F32 reference vector to what a dtype file holds.
func wantVec(ref []float32, dtype kernels.DType) []float32 {
	if dtype == kernels.F32 {
		return ref
	}
	out := make([]float32, len(ref))
	for i, v := range ref {
		out[i] = math.Float32frombits(uint32(toBF16(v)) << 16)
	}
	return out
}

// compareToLlama2c checks every tensor of got against the llama2.c model ref.
func compareToLlama2c(t *testing.T, got, ref *model.Model, dtype kernels.DType) {
	t.Helper()
	d := ref.Config.HeadDim
	mat := func(name string, g, r kernels.Mat, data []byte) {
		t.Helper()
		if g.Type != dtype || g.Rows != r.Rows || g.Cols != r.Cols {
			t.Errorf("%s: %v %dx%d, want %v %dx%d", name, g.Type, g.Rows, g.Cols, dtype, r.Rows, r.Cols)
			return
		}
		if !bytes.Equal(data, wantBytes(r.Data, dtype)) {
			t.Errorf("%s: data differs", name)
		}
	}
	vec := func(name string, g, r []float32) {
		t.Helper()
		want := wantVec(r, dtype)
		if !slices.EqualFunc(g, want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Errorf("%s differs", name)
		}
	}
	gw, rw := got.Weights, ref.Weights
	mat("embd", gw.TokenEmbd, rw.TokenEmbd, gw.TokenEmbd.Data)
	mat("output", gw.Output, rw.Output, gw.Output.Data)
	vec("output norm", gw.OutputNorm, rw.OutputNorm)
	if len(gw.Layers) != len(rw.Layers) {
		t.Fatalf("%d layers, want %d", len(gw.Layers), len(rw.Layers))
	}
	for i, g := range gw.Layers {
		r := rw.Layers[i]
		vec("attn norm", g.AttnNorm, r.AttnNorm)
		vec("ffn norm", g.FFNNorm, r.FFNNorm)
		mat("wq", g.Wq, r.Wq, unpermute(g.Wq, d))
		mat("wk", g.Wk, r.Wk, unpermute(g.Wk, d))
		mat("wv", g.Wv, r.Wv, g.Wv.Data)
		mat("wo", g.Wo, r.Wo, g.Wo.Data)
		mat("w1", g.W1, r.W1, g.W1.Data)
		mat("w2", g.W2, r.W2, g.W2.Data)
		mat("w3", g.W3, r.W3, g.W3.Data)
	}
}

// TestLoadDirF16 checks an F16 directory against the reference within
// half-precision rounding (relative error at most 2^-11 for normal values).
func TestLoadDirF16(t *testing.T) {
	ref := loadStories(t)
	m := mustLoad(t, writeFixture(t, ref, "F16", 1))
	near := func(got, want float32) bool {
		return math.Abs(float64(got-want)) <= math.Abs(float64(want))/2048+1e-7
	}
	mat := func(name string, g, r kernels.Mat) {
		t.Helper()
		if g.Type != kernels.F16 || g.Rows != r.Rows || g.Cols != r.Cols {
			t.Fatalf("%s: %v %dx%d", name, g.Type, g.Rows, g.Cols)
		}
		for i := range r.Rows * r.Cols {
			got := kernels.F16ToF32(binary.LittleEndian.Uint16(g.Data[2*i:]))
			if want := f32At(r.Data, i); !near(got, want) {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got, want)
			}
		}
	}
	mat("embd", m.Weights.TokenEmbd, ref.Weights.TokenEmbd)
	for i, l := range m.Weights.Layers {
		r := ref.Weights.Layers[i]
		mat("wv", l.Wv, r.Wv)
		mat("w2", l.W2, r.W2)
		for j, v := range l.FFNNorm {
			if !near(v, r.FFNNorm[j]) {
				t.Fatalf("ffn norm[%d] = %v, want %v", j, v, r.FFNNorm[j])
			}
		}
	}
}

func TestLoadDirMatchesLlama2c(t *testing.T) {
	ref := loadStories(t)
	tests := []struct {
		name   string
		dtype  string
		want   kernels.DType
		shards int
	}{
		{"f32", "F32", kernels.F32, 1},
		{"bf16", "BF16", kernels.BF16, 1},
		{"f32 two shards", "F32", kernels.F32, 2},
		{"bf16 three shards", "BF16", kernels.BF16, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustLoad(t, writeFixture(t, ref, tt.dtype, tt.shards))
			if m.Config != hfStories {
				t.Errorf("config %+v\nwant   %+v", m.Config, hfStories)
			}
			if m.Name != "stories260K-hf" || m.Format != "safetensors" {
				t.Errorf("name %q format %q", m.Name, m.Format)
			}
			if !slices.Equal(m.StopTokens, []int32{2}) {
				t.Errorf("stop tokens %v, want [2]", m.StopTokens)
			}
			if &m.Weights.Output.Data[0] != &m.Weights.TokenEmbd.Data[0] {
				t.Error("tied output does not alias the embedding")
			}
			compareToLlama2c(t, m, ref, tt.want)
		})
	}
}

// TestMisalignedData pads the header so that the data section starts at an
// odd offset; the loader must copy such tensors and still return them intact.
func TestMisalignedData(t *testing.T) {
	ref := loadStories(t)
	for _, mod := range []int{1, 2, 6} {
		for _, dtype := range []string{"F32", "BF16"} {
			dir := writeFixture(t, ref, dtype, 1)
			rewriteFile(t, dir+"/model.safetensors", mod, nil)
			m := mustLoad(t, dir)
			want := map[string]kernels.DType{"F32": kernels.F32, "BF16": kernels.BF16}[dtype]
			compareToLlama2c(t, m, ref, want)
		}
	}
}

func TestUntiedOutput(t *testing.T) {
	ref := loadStories(t)
	untied := *ref
	out := ref.Weights.TokenEmbd
	out.Data = slices.Clone(out.Data)
	for i := range out.Data {
		out.Data[i] ^= 0x01 // a different, equally shaped classifier
	}
	untied.Weights.Output = out
	dir := writeFixture(t, &untied, "F32", 1)
	m := mustLoad(t, dir)
	if !bytes.Equal(m.Weights.Output.Data, out.Data) || bytes.Equal(m.Weights.Output.Data, m.Weights.TokenEmbd.Data) {
		t.Error("lm_head.weight was not loaded as the output matrix")
	}
	// tie_word_embeddings wins over a stored lm_head.
	editJSON(t, dir+"/config.json", func(c map[string]any) { c["tie_word_embeddings"] = true })
	m = mustLoad(t, dir)
	if !bytes.Equal(m.Weights.Output.Data, ref.Weights.TokenEmbd.Data) {
		t.Error("tie_word_embeddings: output is not the embedding")
	}
}

func TestStopTokensAndTemplate(t *testing.T) {
	ref := loadStories(t)
	dir := writeFixture(t, ref, "F32", 1)
	editJSON(t, dir+"/generation_config.json", func(c map[string]any) { c["eos_token_id"] = []int{5, 2} })
	editJSON(t, dir+"/config.json", func(c map[string]any) { c["eos_token_id"] = 7 })
	writeFile(t, dir+"/tokenizer_config.json", `{"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"}`)
	m := mustLoad(t, dir)
	if want := []int32{5, 2, 7}; !slices.Equal(m.StopTokens, want) {
		t.Errorf("stop tokens %v, want %v", m.StopTokens, want)
	}
	if want := "{% for m in messages %}{{ m.content }}{% endfor %}"; m.ChatTemplate != want {
		t.Errorf("chat template %q, want %q", m.ChatTemplate, want)
	}
}
