package gguf_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sieve/model"
	"sieve/model/gguf"
)

// validRaw returns a small valid file: one string key, an F32 [2 x 32]
// matrix "w" at offset 0 and an F16 vector "v" at offset 256.
func validRaw() *rawFile {
	r := newRaw()
	r.addKV("general.architecture", 8, strb("llama"))
	r.tensors = []rawTensor{
		{name: "w", ne: []uint64{32, 2}, typ: 0, offset: 0},
		{name: "v", ne: []uint64{32}, typ: 1, offset: 256},
	}
	r.dataLen = 256 + 64
	return r
}

// nestedArrays returns an array value nested depth levels deep.
func nestedArrays(depth int) []byte {
	var b []byte
	for i := 0; i < depth; i++ {
		b = append(b, u32b(9)...) // element type: array
		b = append(b, u64b(1)...)
	}
	b = append(b, u32b(0)...) // innermost: empty uint8 array
	return append(b, u64b(0)...)
}

func TestOpenBadFiles(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *rawFile) []byte
		want error  // nil: Open succeeds
		msg  string // substring of the error message
	}{
		{"valid", func(r *rawFile) []byte { return r.bytes() }, nil, ""},
		{"empty file", func(r *rawFile) []byte { return nil }, model.ErrBadModel, "truncated"},
		{"short magic", func(r *rawFile) []byte { return []byte("GG") }, model.ErrBadModel, "truncated"},
		{"wrong magic", func(r *rawFile) []byte { r.magic = "GGML"; return r.bytes() }, model.ErrBadModel, "not a GGUF file"},
		{"version 0", func(r *rawFile) []byte { r.version = 0; return r.bytes() }, model.ErrBadModel, "version 0"},
		{"version 1", func(r *rawFile) []byte { r.version = 1; return r.bytes() }, model.ErrUnsupported, "version 1"},
		{"version 4", func(r *rawFile) []byte { r.version = 4; return r.bytes() }, model.ErrUnsupported, "version 4"},
		{"big-endian", func(r *rawFile) []byte { r.version = 3 << 24; return r.bytes() }, model.ErrUnsupported, "big-endian"},
		{"version 2", func(r *rawFile) []byte { r.version = 2; return r.bytes() }, nil, ""},
		{"huge tensor count", func(r *rawFile) []byte { r.nTensors = ptr(1 << 60); return r.bytes() }, model.ErrBadModel, "tensor count"},
		{"huge metadata count", func(r *rawFile) []byte { r.nKV = ptr(1<<64 - 1); return r.bytes() }, model.ErrBadModel, "metadata count"},
		{"metadata count past data", func(r *rawFile) []byte { r.nKV = ptr(30); return r.bytes() }, model.ErrBadModel, ""},
		{"huge key length", func(r *rawFile) []byte {
			r.kv.Write(u64b(1 << 62))
			r.kvCount++
			return r.bytes()
		}, model.ErrBadModel, "length"},
		{"huge string value", func(r *rawFile) []byte { return r.addKV("s", 8, u64b(1<<40)).bytes() }, model.ErrBadModel, "string value length"},
		{"huge uint64 array", func(r *rawFile) []byte {
			return r.addKV("a", 9, append(u32b(10), u64b(1<<61)...)).bytes()
		}, model.ErrBadModel, "array element count"},
		{"huge string array", func(r *rawFile) []byte {
			return r.addKV("a", 9, append(u32b(8), u64b(1<<40)...)).bytes()
		}, model.ErrBadModel, "array element count"},
		{"huge array of arrays", func(r *rawFile) []byte {
			return r.addKV("a", 9, append(u32b(9), u64b(1<<59)...)).bytes()
		}, model.ErrBadModel, "array element count"},
		{"unknown value type", func(r *rawFile) []byte { return r.addKV("x", 13, u32b(0)).bytes() }, model.ErrBadModel, "value type 13"},
		{"unknown array element type", func(r *rawFile) []byte {
			return r.addKV("x", 9, append(u32b(99), u64b(1)...)).bytes()
		}, model.ErrBadModel, "element type 99"},
		{"bool value 2", func(r *rawFile) []byte { return r.addKV("b", 7, []byte{2}).bytes() }, model.ErrBadModel, "bool"},
		{"duplicate key", func(r *rawFile) []byte { return r.addKV("general.architecture", 4, u32b(1)).bytes() }, model.ErrBadModel, "duplicate metadata key"},
		{"arrays nested too deep", func(r *rawFile) []byte { return r.addKV("n", 9, nestedArrays(40)).bytes() }, model.ErrBadModel, "nested"},
		{"arrays nested 8 deep", func(r *rawFile) []byte { return r.addKV("n", 9, nestedArrays(8)).bytes() }, nil, ""},
		{"alignment 3", func(r *rawFile) []byte { return r.addKV("general.alignment", 4, u32b(3)).bytes() }, model.ErrBadModel, "alignment"},
		{"alignment 0", func(r *rawFile) []byte { return r.addKV("general.alignment", 4, u32b(0)).bytes() }, model.ErrBadModel, "alignment"},
		{"alignment string", func(r *rawFile) []byte { return r.addKV("general.alignment", 8, strb("32")).bytes() }, model.ErrBadModel, "alignment"},
		{"alignment 64", func(r *rawFile) []byte {
			r.addKV("general.alignment", 4, u32b(64))
			r.alignment = 64
			r.tensors[1].offset = 256
			return r.bytes()
		}, nil, ""},
		{"alignment 64 with offset 32", func(r *rawFile) []byte {
			r.addKV("general.alignment", 4, u32b(64))
			r.alignment = 64
			r.tensors[1].ne = []uint64{8}
			r.tensors[1].offset = 32 * 9
			return r.bytes()
		}, model.ErrBadModel, "not a multiple of the alignment"},
		{"zero dimensions", func(r *rawFile) []byte { r.tensors[0].ne = nil; return r.bytes() }, model.ErrBadModel, "0 dimensions"},
		{"five dimensions", func(r *rawFile) []byte { r.tensors[0].ne = []uint64{32, 1, 1, 1, 1}; return r.bytes() }, model.ErrBadModel, "5 dimensions"},
		{"tensor offset past end", func(r *rawFile) []byte { r.tensors[1].offset = 1 << 20; return r.bytes() }, model.ErrBadModel, "past the end"},
		{"tensor data past end", func(r *rawFile) []byte { r.dataLen = 256 + 63; return r.bytes() }, model.ErrBadModel, "past the end"},
		{"tensor offset overflow", func(r *rawFile) []byte { r.tensors[1].offset = 1<<64 - 32; return r.bytes() }, model.ErrBadModel, "past the end"},
		{"misaligned offset", func(r *rawFile) []byte { r.tensors[1].offset = 240; return r.bytes() }, model.ErrBadModel, "not a multiple of the alignment"},
		{"duplicate tensor", func(r *rawFile) []byte { r.tensors[1].name = "w"; return r.bytes() }, model.ErrBadModel, "duplicate tensor"},
		{"huge tensor name", func(r *rawFile) []byte { r.tensors[1].name = strings.Repeat("x", 1<<16); return r.bytes() }, model.ErrBadModel, "tensor name"},
		{"unknown tensor type", func(r *rawFile) []byte { r.tensors[1].typ = 99; return r.bytes() }, model.ErrUnsupported, "unsupported tensor type type(99)"},
		{"retired tensor type", func(r *rawFile) []byte { r.tensors[1].typ = 31; return r.bytes() }, model.ErrUnsupported, "unsupported tensor type q4_0_4_4"},
		{"partial q8_0 block", func(r *rawFile) []byte {
			r.tensors[1].typ = 8
			r.tensors[1].ne = []uint64{33}
			return r.bytes()
		}, model.ErrBadModel, "block size"},
		{"shape overflow", func(r *rawFile) []byte { r.tensors[1].ne = []uint64{1 << 40, 1 << 40}; return r.bytes() }, model.ErrBadModel, "overflows"},
		{"huge shape", func(r *rawFile) []byte { r.tensors[1].ne = []uint64{1 << 20, 1 << 20}; return r.bytes() }, model.ErrBadModel, "past the end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.edit(validRaw())
			path := writeTemp(t, "bad.gguf", data)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f, err := gguf.Open(path)
			runtime.ReadMemStats(&after)
			// Whatever the counts in the file say, reading it allocates in
			// proportion to its size (these files are a few KB; the one
			// with a 64 KiB tensor name is the largest).
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("Open of a %d-byte file allocated %d bytes", len(data), grew)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				f.Close()
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded, want %v", tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %q does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// TestOpenTruncated cuts a valid file at every offset before the end of its
// last tensor's data: each must fail with ErrBadModel.
func TestOpenTruncated(t *testing.T) {
	r := validRaw()
	r.addKV("general.name", 8, strb("t"))
	r.addKV("general.alignment", 4, u32b(32))
	r.addKV("f", 6, u32b(0x3f800000))
	r.addKV("tokens", 9, append(append(u32b(8), u64b(2)...), append(strb("a"), strb("bc")...)...))
	r.addKV("ids", 9, append(append(u32b(5), u64b(3)...), make([]byte, 12)...))
	r.addKV("nested", 9, nestedArrays(2))
	full := r.bytes()
	if _, err := gguf.Open(writeTemp(t, "full.gguf", full)); err != nil {
		t.Fatalf("full file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "cut.gguf")
	for cut := 0; cut < len(full); cut++ {
		if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(path)
		if err == nil {
			f.Close()
			t.Fatalf("cut at %d of %d: Open succeeded", cut, len(full))
		}
		if !errors.Is(err, model.ErrBadModel) {
			t.Fatalf("cut at %d: error %q does not wrap ErrBadModel", cut, err)
		}
	}
}

// TestUnsupportedTensorType: a file holding a type the kernels cannot read
// opens (its metadata is usable), but the tensor and the model cannot be read.
func TestUnsupportedTensorType(t *testing.T) {
	r := validRaw()
	r.tensors[1] = rawTensor{name: "q", ne: []uint64{256}, typ: 16, offset: 256} // iq2_xxs: 66 bytes
	r.dataLen = 256 + 66
	f, err := gguf.Open(writeTemp(t, "iq2xxs.gguf", r.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Tensors[1].Size; got != 66 {
		t.Errorf("iq2_xxs size %d, want 66", got)
	}
	_, err = f.Tensor("q")
	if !errors.Is(err, model.ErrUnsupported) || !strings.Contains(err.Error(), "unsupported tensor type iq2_xxs") {
		t.Fatalf("Tensor: %v, want ErrUnsupported naming iq2_xxs", err)
	}
	if _, err := f.Tensor("missing"); !errors.Is(err, model.ErrBadModel) {
		t.Fatalf("missing tensor: %v, want ErrBadModel", err)
	}
}
