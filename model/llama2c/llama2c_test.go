package llama2c

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/model"
)

// stories260K is the configuration the models README gives for stories260K.
var stories260K = model.Config{
	Dim: 64, HiddenDim: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8,
	VocabSize: 512, ContextLen: 512, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 8,
	RopeStyle: model.RopeAdjacent,
}

func load(t *testing.T, path string) *model.Model {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		file string
		name string
		want model.Config
	}{
		{"stories260K.bin", "stories260K", stories260K},
		{"stories260K-v1.bin", "stories260K-v1", stories260K},
		{"babyllama-tok105.bin", "babyllama-tok105", model.Config{
			Dim: 128, HiddenDim: 352, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 16,
			VocabSize: 105, ContextLen: 256, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 16,
			RopeStyle: model.RopeAdjacent,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := load(t, testmodels.Path(t, tt.file))
			if m.Config != tt.want {
				t.Errorf("config = %+v, want %+v", m.Config, tt.want)
			}
			if m.Name != tt.name || m.Format != "llama2c" || m.Tokenizer != nil {
				t.Errorf("name %q format %q tokenizer %v", m.Name, m.Format, m.Tokenizer)
			}
			checkShapes(t, m)
			if &m.Weights.Output.Data[0] != &m.Weights.TokenEmbd.Data[0] {
				t.Error("shared classifier: Output does not alias TokenEmbd")
			}
		})
	}
}

// checkShapes checks every tensor's type and shape against the config.
func checkShapes(t *testing.T, m *model.Model) {
	t.Helper()
	c := m.Config
	kv := c.KVDim()
	mat := func(name string, x kernels.Mat, rows, cols int) {
		if x.Type != kernels.F32 || x.Rows != rows || x.Cols != cols || len(x.Data) != 4*rows*cols {
			t.Errorf("%s: %v %dx%d (%d bytes), want f32 %dx%d", name, x.Type, x.Rows, x.Cols, len(x.Data), rows, cols)
		}
	}
	mat("embd", m.Weights.TokenEmbd, c.VocabSize, c.Dim)
	mat("output", m.Weights.Output, c.VocabSize, c.Dim)
	if len(m.Weights.OutputNorm) != c.Dim || len(m.Weights.Layers) != c.Layers {
		t.Fatalf("output norm %d, layers %d", len(m.Weights.OutputNorm), len(m.Weights.Layers))
	}
	for _, l := range m.Weights.Layers {
		mat("wq", l.Wq, c.Dim, c.Dim)
		mat("wk", l.Wk, kv, c.Dim)
		mat("wv", l.Wv, kv, c.Dim)
		mat("wo", l.Wo, c.Dim, c.Dim)
		mat("w1", l.W1, c.HiddenDim, c.Dim)
		mat("w2", l.W2, c.Dim, c.HiddenDim)
		mat("w3", l.W3, c.HiddenDim, c.Dim)
		if len(l.AttnNorm) != c.Dim || len(l.FFNNorm) != c.Dim {
			t.Errorf("norms %d %d", len(l.AttnNorm), len(l.FFNNorm))
		}
	}
}

// sameWeights reports the first difference between two models' weights.
func sameWeights(t *testing.T, a, b *model.Model) {
	t.Helper()
	mat := func(name string, x, y kernels.Mat) {
		if x.Type != y.Type || x.Rows != y.Rows || x.Cols != y.Cols || !bytes.Equal(x.Data, y.Data) {
			t.Errorf("%s differs", name)
		}
	}
	vec := func(name string, x, y []float32) {
		if len(x) != len(y) {
			t.Errorf("%s: length %d vs %d", name, len(x), len(y))
			return
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				t.Errorf("%s[%d] = %v vs %v", name, i, x[i], y[i])
				return
			}
		}
	}
	mat("embd", a.Weights.TokenEmbd, b.Weights.TokenEmbd)
	mat("output", a.Weights.Output, b.Weights.Output)
	vec("output norm", a.Weights.OutputNorm, b.Weights.OutputNorm)
	if len(a.Weights.Layers) != len(b.Weights.Layers) {
		t.Fatalf("layers %d vs %d", len(a.Weights.Layers), len(b.Weights.Layers))
	}
	for i := range a.Weights.Layers {
		x, y := a.Weights.Layers[i], b.Weights.Layers[i]
		vec("attn norm", x.AttnNorm, y.AttnNorm)
		vec("ffn norm", x.FFNNorm, y.FFNNorm)
		mat("wq", x.Wq, y.Wq)
		mat("wk", x.Wk, y.Wk)
		mat("wv", x.Wv, y.Wv)
		mat("wo", x.Wo, y.Wo)
		mat("w1", x.W1, y.W1)
		mat("w2", x.W2, y.W2)
		mat("w3", x.W3, y.W3)
	}
}

func TestLegacyAndV1Identical(t *testing.T) {
	legacy := load(t, testmodels.Path(t, "stories260K.bin"))
	v1 := load(t, testmodels.Path(t, "stories260K-v1.bin"))
	sameWeights(t, legacy, v1)
}

// TestLegacyOffsets checks a few tensors against byte offsets worked out by
// hand from the legacy layout (dim 64, vocab 512, 5 layers).
func TestLegacyOffsets(t *testing.T) {
	path := testmodels.Path(t, "stories260K.bin")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := load(t, path)
	embd := 28                   // after the 7 x int32 header
	attnNorm0 := embd + 512*64*4 // 131100
	wq0 := attnNorm0 + 5*64*4    // 132380
	if !bytes.Equal(m.Weights.TokenEmbd.Data, raw[embd:attnNorm0]) {
		t.Error("embedding is not at byte 28")
	}
	if !bytes.Equal(m.Weights.Layers[0].Wq.Data, raw[wq0:wq0+64*64*4]) {
		t.Error("layer 0 wq is not at byte 132380")
	}
	if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[attnNorm0+4*64:])); m.Weights.Layers[1].AttnNorm[0] != got {
		t.Errorf("layer 1 attn norm[0] = %v, want %v", m.Weights.Layers[1].AttnNorm[0], got)
	}
}

// TestUnsharedClassifier appends a classifier to each format and flips the
// header to say so; Output must then be the appended tensor.
func TestUnsharedClassifier(t *testing.T) {
	tests := []struct {
		file  string
		unset func(b []byte)
	}{
		{"stories260K.bin", func(b []byte) { binary.LittleEndian.PutUint32(b[20:], uint32(0xffffffff-512+1)) }}, // vocab -512
		{"stories260K-v1.bin", func(b []byte) { b[36] = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(testmodels.Path(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			cls := make([]byte, 512*64*4)
			for i := range cls {
				cls[i] = byte(i * 7)
			}
			b := append(append([]byte(nil), raw...), cls...)
			tt.unset(b)
			path := filepath.Join(t.TempDir(), "unshared.bin")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			m := load(t, path)
			if m.Config.VocabSize != 512 {
				t.Errorf("vocab %d", m.Config.VocabSize)
			}
			if !bytes.Equal(m.Weights.Output.Data, cls) {
				t.Error("Output is not the appended classifier")
			}
			if bytes.Equal(m.Weights.TokenEmbd.Data, cls) {
				t.Error("TokenEmbd is the classifier")
			}
		})
	}
}

// header7 builds a legacy header from seven config values.
func header7(v ...int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// v1Header builds a 256-byte "ak42" header.
func v1Header(version int32, shared byte, cfg ...int32) []byte {
	b := make([]byte, 256)
	copy(b, header7(0x616b3432, version))
	copy(b[8:], header7(cfg...))
	b[36] = shared
	return b
}

func TestBadFiles(t *testing.T) {
	legacy, err := os.ReadFile(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile(testmodels.Path(t, "stories260K-v1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	cut := func(b []byte, n int) []byte { return b[:n] }
	grow := func(b []byte, n int) []byte { return append(append([]byte(nil), b...), make([]byte, n)...) }
	patch := func(b []byte, off int, v int32) []byte {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(c[off:], uint32(v))
		return c
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, model.ErrBadModel},
		{"27 bytes", cut(legacy, 27), model.ErrBadModel},
		{"header only", cut(legacy, 28), model.ErrBadModel},
		{"truncated 1000", cut(legacy, 1000), model.ErrBadModel},
		{"truncated in rope tables", cut(legacy, len(legacy)-4096), model.ErrBadModel},
		{"truncated by 4", cut(legacy, len(legacy)-4), model.ErrBadModel},
		{"truncated by 1", cut(legacy, len(legacy)-1), model.ErrBadModel},
		{"trailing byte", grow(legacy, 1), model.ErrBadModel},
		{"trailing float", grow(legacy, 4), model.ErrBadModel},
		{"v1 short header", cut(v1, 255), model.ErrBadModel},
		{"v1 header only", cut(v1, 256), model.ErrBadModel},
		{"v1 truncated by 4", cut(v1, len(v1)-4), model.ErrBadModel},
		{"v1 trailing float", grow(v1, 4), model.ErrBadModel},
		{"v1 with legacy rope tables", grow(v1, 4*512*8), model.ErrBadModel},
		{"garbage header", bytes.Repeat([]byte{0xa5}, 4096), model.ErrBadModel},
		{"all ones", bytes.Repeat([]byte{0xff}, 4096), model.ErrBadModel},
		{"max int dims", header7(1<<31-1, 1<<31-1, 1<<31-1, 1<<31-1, 1<<31-1, 1<<31-1, 1<<31-1), model.ErrBadModel},
		{"min int vocab", patch(legacy, 20, -1<<31), model.ErrBadModel},
		{"zero dim", patch(legacy, 0, 0), model.ErrBadModel},
		{"zero layers", patch(legacy, 8, 0), model.ErrBadModel},
		{"zero kv heads", patch(legacy, 16, 0), model.ErrBadModel},
		{"zero vocab", patch(legacy, 20, 0), model.ErrBadModel},
		{"zero seq len", patch(legacy, 24, 0), model.ErrBadModel},
		{"negative hidden", patch(legacy, 4, -172), model.ErrBadModel},
		{"heads not dividing dim", patch(legacy, 12, 7), model.ErrBadModel},
		{"kv heads not dividing heads", patch(legacy, 16, 3), model.ErrBadModel},
		{"more kv heads than heads", patch(legacy, 16, 16), model.ErrBadModel},
		{"odd head dim", header7(12, 8, 1, 4, 4, 4, 4), model.ErrBadModel},
		{"v1 zero dim", patch(v1, 8, 0), model.ErrBadModel},
		{"v1 bad shared flag", func() []byte { c := append([]byte(nil), v1...); c[36] = 2; return c }(), model.ErrBadModel},
		{"version 0", v1Header(0, 1, 64, 172, 5, 8, 4, 512, 512), model.ErrBadModel},
		{"version 2", v1Header(2, 1, 64, 172, 5, 8, 4, 512, 512), model.ErrUnsupported},
		{"version 3", v1Header(3, 1, 64, 172, 5, 8, 4, 512, 512), model.ErrBadModel},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.bin")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Load(path)
			if err == nil {
				m.Close()
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "absent.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want not-exist", err)
	}
}

// FuzzParse checks that no input makes the parser panic, and that whatever
// it accepts has tensors inside the input.
func FuzzParse(f *testing.F) {
	f.Add(header7(64, 172, 5, 8, 4, 512, 512))
	f.Add(header7(2, 2, 1, 1, 1, 1, 1))
	f.Add(v1Header(1, 1, 2, 2, 1, 1, 1, 1, 1))
	// Whole checkpoints (width 4, two heads, one KV head, one layer, vocab
	// 3), so that mutations reach the weights.
	for _, hdr := range [][]byte{
		header7(4, 6, 1, 2, 1, 3, 2), header7(4, 6, 1, 2, 1, -3, 2), v1Header(1, 0, 4, 6, 1, 2, 1, 3, 2),
	} {
		h, err := parseHeader(hdr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(hdr, make([]byte, int(h.fileSize())-len(hdr))...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parse(data)
		if err != nil {
			if !errors.Is(err, model.ErrBadModel) && !errors.Is(err, model.ErrUnsupported) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if err := m.Config.Validate(); err != nil {
			t.Errorf("accepted invalid config: %v", err)
		}
		checkShapes(t, m)
	})
}
