package synth

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"sieve/kernels"
	"sieve/model/gguf"
	"sieve/tokenizer"
)

// weightStd is the standard deviation of every random weight.
const weightStd = 0.02

// tensorSpec is one tensor of a synthetic model: a matrix of rows x cols
// random weights, or (norm) a vector of cols ones.
type tensorSpec struct {
	name       string
	rows, cols int
	norm       bool
}

// tensorPlan lists a model's tensors in file order. Their random values are
// drawn in this order, whatever the storage type.
func tensorPlan(s Shape, vocab int) []tensorSpec {
	q, kv := s.Heads*s.HeadDim(), s.KVHeads*s.HeadDim()
	plan := []tensorSpec{{name: "token_embd.weight", rows: vocab, cols: s.Dim}}
	for i := range s.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		plan = append(plan,
			tensorSpec{name: p + "attn_norm.weight", rows: 1, cols: s.Dim, norm: true},
			tensorSpec{name: p + "attn_q.weight", rows: q, cols: s.Dim},
			tensorSpec{name: p + "attn_k.weight", rows: kv, cols: s.Dim},
			tensorSpec{name: p + "attn_v.weight", rows: kv, cols: s.Dim},
			tensorSpec{name: p + "attn_output.weight", rows: s.Dim, cols: q},
			tensorSpec{name: p + "ffn_norm.weight", rows: 1, cols: s.Dim, norm: true},
			tensorSpec{name: p + "ffn_gate.weight", rows: s.FFN, cols: s.Dim},
			tensorSpec{name: p + "ffn_up.weight", rows: s.FFN, cols: s.Dim},
			tensorSpec{name: p + "ffn_down.weight", rows: s.Dim, cols: s.FFN},
		)
	}
	return append(plan,
		tensorSpec{name: "output_norm.weight", rows: 1, cols: s.Dim, norm: true},
		tensorSpec{name: "output.weight", rows: vocab, cols: s.Dim},
	)
}

// fileType returns llama.cpp's general.file_type for models mostly in typ.
func fileType(typ kernels.DType) uint32 {
	switch typ {
	case kernels.F16:
		return 1
	case kernels.Q8_0:
		return 7
	case kernels.BF16:
		return 32
	}
	return 0
}

// Write writes a llama GGUF v3 file of the given shape to path, with weights
// drawn from Normal(0, 0.02) (deterministic for a seed) and stored in typ,
// norm vectors all ones in F32, an untied output matrix, and the vocabulary's
// tokenizer metadata. The values drawn do not depend on typ, so files of
// different types with the same seed hold the same model up to rounding.
// The file is streamed through a temporary file beside path that is renamed
// into place only when complete.
func Write(path string, shape Shape, typ kernels.DType, seed uint64, vocab *tokenizer.Vocab) (err error) {
	if err := shape.check(typ); err != nil {
		return err
	}
	if vocab == nil {
		return fmt.Errorf("synth: no vocabulary")
	}
	tokKVs, err := vocabMetadata(vocab)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	w := gguf.NewWriter(bw)
	if err := addMetadata(w, shape, typ, len(vocab.Tokens), tokKVs); err != nil {
		return err
	}
	plan := tensorPlan(shape, len(vocab.Tokens))
	for _, t := range plan {
		typeOf := gguf.GGMLType(typ)
		ne := []uint64{uint64(t.cols), uint64(t.rows)}
		if t.norm {
			typeOf, ne = gguf.TypeF32, ne[:1]
		}
		if err := w.AddTensor(t.name, typeOf, ne...); err != nil {
			return err
		}
	}
	if err := writeTensors(w, plan, typ, seed); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// addMetadata adds the general, llama and tokenizer keys.
func addMetadata(w *gguf.Writer, s Shape, typ kernels.DType, vocab int, tokKVs []vocabKV) error {
	kvs := []vocabKV{
		{"general.architecture", "llama"},
		{"general.name", "synth-" + s.Name},
		{"general.alignment", uint32(gguf.DefaultAlignment)},
		{"general.file_type", fileType(typ)},
		{"general.quantization_version", uint32(2)},
		{"llama.context_length", uint32(s.ContextLen)},
		{"llama.embedding_length", uint32(s.Dim)},
		{"llama.block_count", uint32(s.Layers)},
		{"llama.feed_forward_length", uint32(s.FFN)},
		{"llama.rope.dimension_count", uint32(s.HeadDim())},
		{"llama.attention.head_count", uint32(s.Heads)},
		{"llama.attention.head_count_kv", uint32(s.KVHeads)},
		{"llama.attention.layer_norm_rms_epsilon", float32(normEps)},
		{"llama.rope.freq_base", s.RopeTheta},
		{"llama.vocab_size", uint32(vocab)},
	}
	for _, kv := range append(kvs, tokKVs...) {
		if err := w.AddKV(kv.key, kv.value); err != nil {
			return err
		}
	}
	return nil
}

// writeTensors generates and writes every tensor's data, row by row.
func writeTensors(w *gguf.Writer, plan []tensorSpec, typ kernels.DType, seed uint64) error {
	src := newNormalSource(seed, weightStd)
	var row []float32
	var enc []byte
	for _, t := range plan {
		if cap(row) < t.cols {
			row = make([]float32, t.cols)
			enc = make([]byte, 4*t.cols)
		}
		row = row[:t.cols]
		if t.norm {
			for i := range row {
				row[i] = 1
			}
			if _, err := w.Write(encodeRow(enc, row, kernels.F32)); err != nil {
				return err
			}
			continue
		}
		for range t.rows {
			src.fill(row)
			if _, err := w.Write(encodeRow(enc, row, typ)); err != nil {
				return err
			}
		}
	}
	return nil
}

// encodeRow stores row in typ (little-endian) in buf and returns the bytes.
func encodeRow(buf []byte, row []float32, typ kernels.DType) []byte {
	out := buf[:typ.RowBytes(len(row))]
	switch typ {
	case kernels.F32:
		for i, v := range row {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		}
	case kernels.F16:
		for i, v := range row {
			binary.LittleEndian.PutUint16(out[2*i:], kernels.F32ToF16(v))
		}
	case kernels.BF16:
		for i, v := range row {
			binary.LittleEndian.PutUint16(out[2*i:], kernels.F32ToBF16(v))
		}
	case kernels.Q8_0:
		kernels.QuantizeRowQ8_0(out, row)
	}
	return out
}
