package gguf_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sieve/kernels"
	"sieve/model/gguf"
)

// roundTripKVs holds one metadata value of every type the format has.
func roundTripKVs() []struct {
	key   string
	value any
} {
	return []struct {
		key   string
		value any
	}{
		{"general.alignment", uint32(64)},
		{"u8", uint8(200)},
		{"i8", int8(-100)},
		{"u16", uint16(60000)},
		{"i16", int16(-30000)},
		{"u32", uint32(4000000000)},
		{"i32", int32(-2000000000)},
		{"u64", uint64(1<<64 - 1)},
		{"i64", int64(-1 << 63)},
		{"f32", float32(math.Pi)},
		{"f64", math.E},
		{"bool.t", true},
		{"bool.f", false},
		{"str", "héllo ▁world"},
		{"str.empty", ""},
		{"a.u8", []uint8{0, 1, 255}},
		{"a.i8", []int8{-128, 0, 127}},
		{"a.u16", []uint16{0, 65535}},
		{"a.i16", []int16{-32768, 32767}},
		{"a.u32", []uint32{7, 1<<32 - 1}},
		{"a.i32", []int32{-1, 2, 3}},
		{"a.u64", []uint64{1 << 63}},
		{"a.i64", []int64{-5, 5}},
		{"a.f32", []float32{-0.5, 1e-30, float32(math.Inf(1))}},
		{"a.f64", []float64{1e300, -2}},
		{"a.bool", []bool{true, false, true}},
		{"a.str", []string{"<unk>", "", "▁the"}},
		{"a.empty", []int32{}},
		{"a.nested", []any{[]int32{1, 2}, []string{"x"}, []any{[]bool{true}}}},
	}
}

// tensorCase is a tensor written and read back.
type tensorCase struct {
	name string
	typ  gguf.GGMLType
	ne   []uint64
	data []byte
}

// patterned returns n bytes of a recognisable pattern.
func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func TestWriterRoundTrip(t *testing.T) {
	tensors := []tensorCase{
		{"f32.matrix", gguf.TypeF32, []uint64{3, 2}, patterned(24, 1)},
		{"f16.vector", gguf.TypeF16, []uint64{5}, patterned(10, 2)},
		{"empty", gguf.TypeF32, []uint64{0, 4}, nil},
		{"bf16.matrix", gguf.TypeBF16, []uint64{4, 3}, patterned(24, 3)},
		{"q8_0.matrix", gguf.TypeQ8_0, []uint64{64, 2}, patterned(136, 4)},
		{"q4_K.3d", gguf.TypeQ4_K, []uint64{256, 1, 2}, patterned(288, 5)},
	}
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	kvs := roundTripKVs()
	for _, kv := range kvs {
		if err := w.AddKV(kv.key, kv.value); err != nil {
			t.Fatalf("AddKV(%s): %v", kv.key, err)
		}
	}
	for _, tc := range tensors {
		if err := w.AddTensor(tc.name, tc.typ, tc.ne...); err != nil {
			t.Fatalf("AddTensor(%s): %v", tc.name, err)
		}
	}
	// Write the data in odd-sized pieces that straddle tensor boundaries.
	var all []byte
	for _, tc := range tensors {
		all = append(all, tc.data...)
	}
	for len(all) > 0 {
		k := min(len(all), 13)
		if _, err := w.Write(all[:k]); err != nil {
			t.Fatal(err)
		}
		all = all[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%64 != 0 {
		t.Errorf("file length %d is not padded to the alignment", buf.Len())
	}

	f, err := gguf.Open(writeTemp(t, "rt.gguf", buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Version != 3 || f.Alignment != 64 {
		t.Errorf("version %d alignment %d, want 3 and 64", f.Version, f.Alignment)
	}
	if len(f.Keys) != len(kvs) || len(f.Metadata) != len(kvs) {
		t.Fatalf("%d keys, %d metadata entries, want %d", len(f.Keys), len(f.Metadata), len(kvs))
	}
	for i, kv := range kvs {
		if f.Keys[i] != kv.key {
			t.Errorf("key %d = %q, want %q", i, f.Keys[i], kv.key)
		}
		if got := f.Metadata[kv.key]; !reflect.DeepEqual(got, kv.value) {
			t.Errorf("%s = %#v, want %#v", kv.key, got, kv.value)
		}
	}
	if len(f.Tensors) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tensors))
	}
	for i, tc := range tensors {
		ti := f.Tensors[i]
		if ti.Name != tc.name || ti.Type != tc.typ || !reflect.DeepEqual(ti.Shape, tc.ne) || ti.Size != uint64(len(tc.data)) {
			t.Errorf("tensor %d = %+v, want %s %v %v size %d", i, ti, tc.name, tc.typ, tc.ne, len(tc.data))
		}
		if ti.Offset%64 != 0 {
			t.Errorf("tensor %s offset %d not aligned", tc.name, ti.Offset)
		}
		if tc.typ == gguf.TypeQ4_K {
			continue
		}
		m, err := f.Tensor(tc.name)
		if err != nil {
			t.Fatalf("Tensor(%s): %v", tc.name, err)
		}
		rows := 1
		if len(tc.ne) > 1 {
			rows = int(tc.ne[1])
		}
		dt, _ := tc.typ.DType()
		if m.Type != dt || m.Rows != rows || m.Cols != int(tc.ne[0]) || !bytes.Equal(m.Data, tc.data) {
			t.Errorf("Tensor(%s) = %v %dx%d %x, want %v %dx%d %x", tc.name, m.Type, m.Rows, m.Cols, m.Data, dt, rows, tc.ne[0], tc.data)
		}
	}
}

func TestGetters(t *testing.T) {
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for _, kv := range roundTripKVs() {
		if err := w.AddKV(kv.key, kv.value); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(writeTemp(t, "getters.gguf", buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	uints := []struct {
		key  string
		want uint64
		ok   bool
	}{
		{"u8", 200, true}, {"u16", 60000, true}, {"u32", 4000000000, true}, {"u64", 1<<64 - 1, true},
		{"i8", 0, false}, {"i64", 0, false}, {"f32", 0, false}, {"str", 0, false}, {"missing", 0, false},
	}
	for _, tc := range uints {
		if got, ok := f.Uint(tc.key); got != tc.want || ok != tc.ok {
			t.Errorf("Uint(%s) = %d, %v; want %d, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	ints := []struct {
		key  string
		want int64
		ok   bool
	}{
		{"i8", -100, true}, {"i16", -30000, true}, {"i32", -2000000000, true}, {"i64", -1 << 63, true},
		{"u32", 4000000000, true}, {"u64", 0, false}, {"bool.t", 0, false},
	}
	for _, tc := range ints {
		if got, ok := f.Int(tc.key); got != tc.want || ok != tc.ok {
			t.Errorf("Int(%s) = %d, %v; want %d, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	floats := []struct {
		key  string
		want float64
		ok   bool
	}{
		{"f32", float64(float32(math.Pi)), true}, {"f64", math.E, true}, {"u16", 60000, true}, {"i8", -100, true}, {"str", 0, false},
	}
	for _, tc := range floats {
		if got, ok := f.Float(tc.key); got != tc.want || ok != tc.ok {
			t.Errorf("Float(%s) = %g, %v; want %g, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	if s, ok := f.String("str"); s != "héllo ▁world" || !ok {
		t.Errorf("String(str) = %q, %v", s, ok)
	}
	if _, ok := f.String("u8"); ok {
		t.Error("String(u8) succeeded")
	}
	if b, ok := f.Bool("bool.t"); !b || !ok {
		t.Errorf("Bool(bool.t) = %v, %v", b, ok)
	}
	if len(f.Tensors) != 0 {
		t.Errorf("%d tensors, want 0", len(f.Tensors))
	}
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(w *gguf.Writer) error
		msg  string
	}{
		{"duplicate key", func(w *gguf.Writer) error {
			w.AddKV("k", uint8(1))
			return w.AddKV("k", uint8(2))
		}, "duplicate metadata key"},
		{"go int", func(w *gguf.Writer) error { return w.AddKV("k", 5) }, "unsupported value type int"},
		{"array of scalars in []any", func(w *gguf.Writer) error { return w.AddKV("k", []any{uint8(1)}) }, "array of arrays"},
		{"bad alignment", func(w *gguf.Writer) error { return w.AddKV("general.alignment", uint32(24)) }, "power of two"},
		{"alignment not uint32", func(w *gguf.Writer) error { return w.AddKV("general.alignment", uint64(32)) }, "power of two"},
		{"duplicate tensor", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.TypeF32, 4)
			return w.AddTensor("t", gguf.TypeF32, 4)
		}, "duplicate tensor"},
		{"long name", func(w *gguf.Writer) error { return w.AddTensor(strings.Repeat("n", 64), gguf.TypeF32, 4) }, "1 to 63 bytes"},
		{"no dims", func(w *gguf.Writer) error { return w.AddTensor("t", gguf.TypeF32) }, "0 dimensions"},
		{"partial block", func(w *gguf.Writer) error { return w.AddTensor("t", gguf.TypeQ8_0, 48) }, "block size"},
		{"unknown type", func(w *gguf.Writer) error { return w.AddTensor("t", gguf.GGMLType(77), 4) }, "unsupported tensor type"},
		{"too much data", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.TypeF32, 2)
			_, err := w.Write(make([]byte, 9))
			return err
		}, "more data"},
		{"too little data", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.TypeF32, 2)
			w.AddTensor("u", gguf.TypeF32, 2)
			w.Write(make([]byte, 12))
			return w.Close()
		}, `tensor "u" got 4 of its 8 bytes`},
		{"metadata after data", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.TypeF32, 2)
			w.Write(make([]byte, 4))
			return w.AddKV("k", true)
		}, "after tensor data"},
		{"tensor after data", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.TypeF32, 2)
			w.Write(make([]byte, 4))
			return w.AddTensor("u", gguf.TypeF32, 2)
		}, "after tensor data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(gguf.NewWriter(&bytes.Buffer{}))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.msg)
			}
		})
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriterPropagatesErrors(t *testing.T) {
	w := gguf.NewWriter(&failingWriter{n: 100})
	w.AddKV("general.architecture", "llama")
	w.AddTensor("t", gguf.TypeF32, 64)
	if _, err := w.Write(make([]byte, 256)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write: %v, want disk full", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failed write succeeded")
	}
}

// TestTensorAfterClose: tensors are read in place, so Close invalidates them.
func TestTensorAfterClose(t *testing.T) {
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	w.AddTensor("t", gguf.TypeF32, 8)
	w.Write(kernels.F32Bytes(make([]float32, 8)))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "c.gguf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Tensor("t"); err == nil {
		t.Fatal("Tensor after Close succeeded")
	}
}
