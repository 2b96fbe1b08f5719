package gguf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model"
	"sieve/model/gguf"
)

// TestTensorLayout: the tensors' data ranges must tile the data section,
// each the size its type and shape imply (up to the alignment padding),
// with no overlap, no unused bytes between them, and none after the last
// beyond its padding. validRaw holds an F32 "w" of 256 bytes at 0 and an
// F16 "v" of 64 bytes at 256.
func TestTensorLayout(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *rawFile)
		msg  string // substring of the error; "" when the file is valid
	}{
		{"valid", func(r *rawFile) {}, ""},
		{"tensors out of offset order", func(r *rawFile) {
			r.tensors[0].offset, r.tensors[1].offset = 64, 0
		}, ""},
		{"last tensor without its padding", func(r *rawFile) {
			r.tensors[1].ne = []uint64{8} // 16 bytes
			r.dataLen = 256 + 16
		}, ""},
		{"last tensor with its padding", func(r *rawFile) {
			r.tensors[1].ne = []uint64{8}
			r.dataLen = 256 + 32
		}, ""},
		{"empty tensor inside another", func(r *rawFile) {
			r.tensors = append(r.tensors, rawTensor{name: "e", ne: []uint64{0}, typ: 0, offset: 64})
		}, ""},
		{"same offset", func(r *rawFile) { r.tensors[1].offset = 0 }, `tensor "v" data [0, 64) overlaps tensor "w" data [0, 256)`},
		{"overlapping ranges", func(r *rawFile) { r.tensors[1].offset = 224 }, `overlaps tensor "w"`},
		{"type smaller than its data", func(r *rawFile) { r.tensors[0].typ = 1 }, // F16: 128 of the 256 bytes
			`tensor "w" is f16 of shape [32 2], 128 bytes, but its data range [0, 256) holds 256`},
		{"gap between tensors", func(r *rawFile) {
			r.tensors[1].offset = 288
			r.dataLen = 288 + 64
		}, `tensor "w" is f32`},
		{"unused bytes before the first tensor", func(r *rawFile) {
			r.tensors[0].offset, r.tensors[1].offset = 32, 288
			r.dataLen = 288 + 64
		}, `starts with 32 bytes that no tensor uses`},
		{"data after the last tensor", func(r *rawFile) { r.dataLen = 256 + 64 + 32 }, `tensor "v" is f16 of shape [32], 64 bytes, but its data range [256, 352)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := validRaw()
			tc.edit(r)
			if tc.msg != "" {
				wantRefused(t, r.bytes(), tc.msg)
				return
			}
			f, err := gguf.Open(writeTemp(t, "layout.gguf", r.bytes()))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			f.Close()
		})
	}
}

// TestHostileTensorTable is the recipe on whole models: in a file
// written by gguf.Writer (and in stories260K.gguf when it is at hand),
// output_norm's offset is set to token_embd's, or attn_q is declared Q4_0
// over its F32 data. Both loaded silently and computed gibberish; now the
// file is refused naming the tensor.
func TestHostileTensorTable(t *testing.T) {
	t.Run("writer", func(t *testing.T) { refuseHostileTables(t, tinyLlama().bytes(t)) })
	t.Run("stories260K", func(t *testing.T) {
		data, err := os.ReadFile(testmodels.Path(t, "stories260K.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		refuseHostileTables(t, data)
	})
}

// refuseHostileTables patches the tensor table of the llama file data in
// the two ways and requires each result to be refused.
func refuseHostileTables(t *testing.T, data []byte) {
	t.Run("output_norm at token_embd", func(t *testing.T) {
		embd := tensorField(t, data, "token_embd.weight")
		hostile := bytes.Clone(data)
		copy(hostile[tensorField(t, data, "output_norm.weight").offset:], data[embd.offset:embd.offset+8])
		wantRefused(t, hostile, `tensor "output_norm.weight" data`, `overlaps tensor "token_embd.weight"`)
	})
	t.Run("attn_q declared q4_0", func(t *testing.T) {
		q := tensorField(t, data, "blk.0.attn_q.weight")
		if typ := binary.LittleEndian.Uint32(data[q.typ:]); typ != uint32(gguf.TypeF32) {
			t.Skipf("attn_q is type %d, not f32", typ)
		}
		hostile := bytes.Clone(data)
		binary.LittleEndian.PutUint32(hostile[q.typ:], uint32(gguf.TypeQ4_0))
		wantRefused(t, hostile, `tensor "blk.0.attn_q.weight" is q4_0`, "does not match its data")
	})
}

// tensorFields are the positions in a file of one tensor info's type and
// offset fields.
type tensorFields struct{ typ, offset int }

// tensorField finds the info of the named tensor in a GGUF file's bytes:
// its name (length-prefixed), then n_dims, the dimensions, type, offset.
func tensorField(t *testing.T, data []byte, name string) tensorFields {
	t.Helper()
	i := bytes.Index(data, append(u64b(uint64(len(name))), name...))
	if i < 0 {
		t.Fatalf("no tensor info %q", name)
	}
	p := i + 8 + len(name)
	nDims := int(binary.LittleEndian.Uint32(data[p:]))
	typ := p + 4 + 8*nDims
	return tensorFields{typ: typ, offset: typ + 4}
}

// wantRefused opens data and requires ErrTensorLayout naming what parts say.
func wantRefused(t *testing.T, data []byte, parts ...string) {
	t.Helper()
	f, err := gguf.Open(writeTemp(t, "hostile.gguf", data))
	if err == nil {
		f.Close()
		t.Fatal("the hostile file opened")
	}
	if !errors.Is(err, gguf.ErrTensorLayout) || !errors.Is(err, model.ErrBadModel) {
		t.Fatalf("error %q does not wrap ErrTensorLayout and ErrBadModel", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}
