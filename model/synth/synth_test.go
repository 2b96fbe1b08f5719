package synth_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/model"
	"sieve/model/gguf"
	"sieve/model/synth"
	"sieve/tokenizer"
)

// allTypes are the storage types synth writes.
var allTypes = []kernels.DType{kernels.F32, kernels.F16, kernels.BF16, kernels.Q8_0}

// writeTiny writes the tiny shape in typ with seed and opens it.
func writeTiny(t *testing.T, typ kernels.DType, seed uint64) (*gguf.File, *model.Model, string) {
	t.Helper()
	shape, ok := synth.LookupShape("tiny")
	if !ok {
		t.Fatal("no tiny shape")
	}
	path := filepath.Join(t.TempDir(), "tiny-"+typ.String()+".gguf")
	if err := synth.Write(path, shape, typ, seed, synth.ByteVocab()); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := f.Model()
	if err != nil {
		t.Fatal(err)
	}
	return f, m, path
}

// matrices returns every weight matrix of m by a descriptive name.
func matrices(m *model.Model) map[string]kernels.Mat {
	out := map[string]kernels.Mat{"token_embd": m.Weights.TokenEmbd, "output": m.Weights.Output}
	for i, l := range m.Weights.Layers {
		for name, mat := range map[string]kernels.Mat{"wq": l.Wq, "wk": l.Wk, "wv": l.Wv, "wo": l.Wo, "w1": l.W1, "w2": l.W2, "w3": l.W3} {
			out[name+string(rune('0'+i))] = mat
		}
	}
	return out
}

// rows dequantizes a matrix into one float32 slice.
func rows(m kernels.Mat) []float32 {
	out := make([]float32, m.Rows*m.Cols)
	for r := range m.Rows {
		kernels.DequantRow(out[r*m.Cols:(r+1)*m.Cols], m, r)
	}
	return out
}

func TestShapes(t *testing.T) {
	if got, want := synth.ShapeNames(), []string{"tiny", "small", "1b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ShapeNames() = %v, want %v", got, want)
	}
	tests := []synth.Shape{
		{Name: "tiny", Layers: 2, Dim: 64, Heads: 4, KVHeads: 2, FFN: 128, ContextLen: 2048, RopeTheta: 10000},
		{Name: "small", Layers: 12, Dim: 768, Heads: 12, KVHeads: 4, FFN: 2048, ContextLen: 16384, RopeTheta: 10000},
		{Name: "1b", Layers: 16, Dim: 2048, Heads: 32, KVHeads: 8, FFN: 8192, ContextLen: 16384, RopeTheta: 500000},
	}
	for _, want := range tests {
		got, ok := synth.LookupShape(want.Name)
		if !ok || got != want {
			t.Errorf("LookupShape(%q) = %+v, %v; want %+v", want.Name, got, ok, want)
		}
	}
	if got := tests[1]; got.Dim/got.Heads != 64 {
		t.Errorf("small head dim %d, want 64", got.Dim/got.Heads)
	}
	if _, ok := synth.LookupShape("7b"); ok {
		t.Error("LookupShape(7b) succeeded")
	}
}

func TestByteVocab(t *testing.T) {
	v := synth.ByteVocab()
	if len(v.Tokens) != 260 || len(v.Types) != 260 || len(v.Scores) != 260 {
		t.Fatalf("%d tokens, %d types, %d scores; want 260", len(v.Tokens), len(v.Types), len(v.Scores))
	}
	checks := []struct {
		id    int
		piece string
		typ   tokenizer.TokenType
	}{
		{0, "<unk>", tokenizer.TypeUnknown}, {1, "<s>", tokenizer.TypeControl}, {2, "</s>", tokenizer.TypeControl},
		{3, "<0x00>", tokenizer.TypeByte}, {3 + 'A', "<0x41>", tokenizer.TypeByte}, {258, "<0xFF>", tokenizer.TypeByte},
	}
	for _, c := range checks {
		if v.Tokens[c.id] != c.piece || v.Types[c.id] != c.typ {
			t.Errorf("token %d = %q type %d, want %q type %d", c.id, v.Tokens[c.id], v.Types[c.id], c.piece, c.typ)
		}
	}
	if v.Kind != tokenizer.SentencePiece || v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 || !v.AddBOS {
		t.Errorf("vocab specials %+v", v)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	// Every byte falls back to its byte token (id 3 + byte): 'H' is 0x48,
	// 'i' 0x69; a space is the "▁" token 259. No space prefix is added.
	if got, want := tok.Encode("Hi a", tokenizer.EncodeOptions{AddBOS: true}), []int32{1, 75, 108, 259, 100}; !reflect.DeepEqual(got, want) {
		t.Errorf("Encode(Hi a) = %v, want %v", got, want)
	}
	if got := tok.Decode([]int32{1, 75, 108, 259, 100}); got != "Hi a" {
		t.Errorf("Decode = %q, want %q", got, "Hi a")
	}
}

func TestWriteTiny(t *testing.T) {
	want := model.Config{
		Dim: 64, HiddenDim: 128, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16, VocabSize: 260,
		ContextLen: 2048, NormEps: 1e-5, RopeTheta: 10000, RopeDim: 16, RopeStyle: model.RopeAdjacent,
	}
	fileTypes := map[kernels.DType]uint64{kernels.F32: 0, kernels.F16: 1, kernels.Q8_0: 7, kernels.BF16: 32}
	for _, typ := range allTypes {
		t.Run(typ.String(), func(t *testing.T) {
			f, m, path := writeTiny(t, typ, 7)
			if m.Config != want {
				t.Errorf("config %+v\nwant   %+v", m.Config, want)
			}
			if len(f.Tensors) != 2+9*2+1 {
				t.Errorf("%d tensors, want 21", len(f.Tensors))
			}
			for name, mat := range matrices(m) {
				if mat.Type != typ {
					t.Errorf("%s is %v, want %v", name, mat.Type, typ)
				}
			}
			if bytes.Equal(m.Weights.Output.Data, m.Weights.TokenEmbd.Data) {
				t.Error("output equals the embedding; want an untied output")
			}
			norms := [][]float32{m.Weights.OutputNorm}
			for _, l := range m.Weights.Layers {
				norms = append(norms, l.AttnNorm, l.FFNNorm)
			}
			for _, n := range norms {
				for _, v := range n {
					if v != 1 {
						t.Fatalf("norm value %g, want 1", v)
					}
				}
			}
			for _, ti := range f.Tensors {
				if len(ti.Shape) == 1 && ti.Type != gguf.TypeF32 {
					t.Errorf("norm %s is %v, want f32", ti.Name, ti.Type)
				}
			}
			if ft, _ := f.Uint("general.file_type"); ft != fileTypes[typ] {
				t.Errorf("general.file_type %d, want %d", ft, fileTypes[typ])
			}
			if arch, _ := f.String("general.architecture"); arch != "llama" {
				t.Errorf("architecture %q", arch)
			}
			v, err := tokenizer.FromGGUF(f.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			bv := synth.ByteVocab()
			if !reflect.DeepEqual(v.Tokens, bv.Tokens) || !reflect.DeepEqual(v.Types, bv.Types) || !reflect.DeepEqual(v.Scores, bv.Scores) ||
				v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || !v.AddBOS || v.AddEOS || v.Kind != tokenizer.SentencePiece {
				t.Errorf("vocabulary read back differs: %+v", v)
			}
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil || len(entries) != 1 {
				t.Errorf("directory holds %d entries (%v), want only the model", len(entries), err)
			}
		})
	}
}

func TestWeightStatistics(t *testing.T) {
	_, m, _ := writeTiny(t, kernels.F32, 3)
	var n, sum, sumSq, within1 float64
	for _, mat := range matrices(m) {
		for _, v := range rows(mat) {
			x := float64(v)
			n++
			sum += x
			sumSq += x * x
			if math.Abs(x) < 0.02 {
				within1++
			}
		}
	}
	mean := sum / n
	std := math.Sqrt(sumSq/n - mean*mean)
	// About 150k samples: the sample mean's error is about 0.02/sqrt(n) = 5e-5.
	if math.Abs(mean) > 3e-4 || math.Abs(std-0.02) > 0.0005 {
		t.Errorf("weights have mean %g and std %g, want 0 and 0.02", mean, std)
	}
	// A normal distribution has 68.27% of its mass within one std.
	if frac := within1 / n; math.Abs(frac-0.6827) > 0.01 {
		t.Errorf("%.4f of weights within one std, want 0.6827", frac)
	}
}

func TestWriteDeterministic(t *testing.T) {
	read := func(seed uint64) []byte {
		_, _, path := writeTiny(t, kernels.Q8_0, seed)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := read(11), read(11), read(12)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different files")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same file")
	}
}

// TestTypesAgree: files of every type with one seed hold the same weights,
// up to each type's rounding.
func TestTypesAgree(t *testing.T) {
	_, ref, _ := writeTiny(t, kernels.F32, 5)
	refMats := matrices(ref)
	for _, typ := range allTypes[1:] {
		t.Run(typ.String(), func(t *testing.T) {
			_, m, _ := writeTiny(t, typ, 5)
			for name, mat := range matrices(m) {
				want, got := rows(refMats[name]), rows(mat)
				for i, w := range want {
					var bound float64
					switch typ {
					case kernels.F16:
						bound = max(math.Abs(float64(w))*0x1p-11, 0x1p-25) // half a unit in the last of 10 stored bits; 2^-24 apart below 2^-14
					case kernels.BF16:
						bound = math.Abs(float64(w)) * 0x1p-8 // half a unit in the last of 7 stored bits
					case kernels.Q8_0:
						// Half the block's stored scale.
						blk := i / kernels.Q8Block
						row, col := blk*kernels.Q8Block/mat.Cols, blk*kernels.Q8Block%mat.Cols
						off := col / kernels.Q8Block * (2 + kernels.Q8Block)
						d := kernels.F16ToF32(binary.LittleEndian.Uint16(mat.Row(row)[off:]))
						bound = float64(d) / 2 * (1 + 1e-6)
					}
					if diff := math.Abs(float64(got[i] - w)); diff > bound {
						t.Fatalf("%s[%d] = %g, f32 file has %g (error %g > %g)", name, i, got[i], w, diff, bound)
					}
				}
			}
		})
	}
}

func TestWriteFailuresLeaveNoFile(t *testing.T) {
	tiny, _ := synth.LookupShape("tiny")
	odd := tiny
	odd.Dim, odd.Heads = 48, 4 // not a whole number of q8_0 blocks
	badVocab := synth.ByteVocab()
	badVocab.Scores = badVocab.Scores[:10]
	tests := []struct {
		name  string
		shape synth.Shape
		typ   kernels.DType
		vocab *tokenizer.Vocab
	}{
		{"q8_0 of a 48-wide model", odd, kernels.Q8_0, synth.ByteVocab()},
		{"invalid type", tiny, kernels.DType(99), synth.ByteVocab()},
		{"heads not divisible", synth.Shape{Name: "x", Layers: 1, Dim: 64, Heads: 4, KVHeads: 3, FFN: 64, ContextLen: 8, RopeTheta: 1}, kernels.F32, synth.ByteVocab()},
		{"mismatched scores", tiny, kernels.F32, badVocab},
		{"no vocabulary", tiny, kernels.F32, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := synth.Write(filepath.Join(dir, "m.gguf"), tc.shape, tc.typ, 1, tc.vocab); err == nil {
				t.Fatal("Write succeeded")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed Write left %d files", len(entries))
			}
		})
	}
	if err := synth.Write(filepath.Join(t.TempDir(), "missing", "m.gguf"), tiny, kernels.F32, 1, synth.ByteVocab()); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}

// TestByteBPEVocab writes a rank-ordered byte-level vocabulary without a
// merge list: the merges must be derived from the ranks.
func TestByteBPEVocab(t *testing.T) {
	v := &tokenizer.Vocab{
		Kind:   tokenizer.ByteBPE,
		Tokens: []string{"a", "b", "c", "ab", "abc", "bc", "<|end|>"},
		Types: []tokenizer.TokenType{tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeNormal,
			tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeControl},
		Pre: "llama3", BOS: -1, EOS: 6, UNK: -1, PAD: -1, EOT: []int32{6},
	}
	tiny, _ := synth.LookupShape("tiny")
	path := filepath.Join(t.TempDir(), "bpe.gguf")
	if err := synth.Write(path, tiny, kernels.F16, 1, v); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// "ab" (rank 3) is a+b; "abc" (rank 4) is ab+c only, since bc ranks later; "bc" is b+c.
	if got, want := f.Metadata["tokenizer.ggml.merges"], []string{"a b", "ab c", "b c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("merges %q, want %q", got, want)
	}
	if pre, _ := f.String("tokenizer.ggml.pre"); pre != "llama-bpe" {
		t.Errorf("pre %q, want llama-bpe", pre)
	}
	if eot, ok := f.Uint("tokenizer.ggml.eot_token_id"); eot != 6 || !ok {
		t.Errorf("eot %d, %v", eot, ok)
	}
	if _, ok := f.Metadata["tokenizer.ggml.bos_token_id"]; ok {
		t.Error("absent BOS written")
	}
	back, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if back.Kind != tokenizer.ByteBPE || !reflect.DeepEqual(back.Tokens, v.Tokens) || back.EOS != 6 {
		t.Errorf("vocabulary read back: %+v", back)
	}
	m, err := f.Model()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.VocabSize != 7 {
		t.Errorf("vocab size %d", m.Config.VocabSize)
	}
}

func TestReadVocab(t *testing.T) {
	tiny, _ := synth.LookupShape("tiny")
	synthPath := filepath.Join(t.TempDir(), "s.gguf")
	if err := synth.Write(synthPath, tiny, kernels.F32, 1, synth.ByteVocab()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   func() string
		tokens int
		piece1 string
	}{
		{"synthetic gguf", func() string { return synthPath }, 260, "<s>"},
		{"stories260K.gguf", func() string { return testmodels.Path(t, "stories260K.gguf") }, 512, "<s>"},
		{"tok512.bin", func() string { return testmodels.Path(t, "tok512.bin") }, 512, "<s>"},
		{"tokenizer.model", func() string { return testmodels.Path(t, "tokenizer.model") }, 32000, "<s>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := synth.ReadVocab(tc.path())
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Tokens) != tc.tokens || v.Tokens[1] != tc.piece1 {
				t.Errorf("%d tokens, token 1 %q; want %d and %q", len(v.Tokens), v.Tokens[1], tc.tokens, tc.piece1)
			}
		})
	}
	if _, err := synth.ReadVocab(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("ReadVocab of a missing file succeeded")
	}
}
