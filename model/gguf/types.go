package gguf

import (
	"fmt"

	"sieve/kernels"
)

// GGMLType is a tensor storage type id as GGUF files record it.
type GGMLType uint32

// GGML tensor type ids. F32, F16, BF16, the legacy quants (Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0), the K-quants (Q2_K to Q6_K), IQ4_NL and IQ4_XS can be
// read into kernels.Mat; the others are named so that errors can say what a
// file holds.
const (
	TypeF32     GGMLType = 0
	TypeF16     GGMLType = 1
	TypeQ4_0    GGMLType = 2
	TypeQ4_1    GGMLType = 3
	TypeQ5_0    GGMLType = 6
	TypeQ5_1    GGMLType = 7
	TypeQ8_0    GGMLType = 8
	TypeQ8_1    GGMLType = 9
	TypeQ2_K    GGMLType = 10
	TypeQ3_K    GGMLType = 11
	TypeQ4_K    GGMLType = 12
	TypeQ5_K    GGMLType = 13
	TypeQ6_K    GGMLType = 14
	TypeQ8_K    GGMLType = 15
	TypeIQ2_XXS GGMLType = 16
	TypeIQ2_XS  GGMLType = 17
	TypeIQ3_XXS GGMLType = 18
	TypeIQ1_S   GGMLType = 19
	TypeIQ4_NL  GGMLType = 20
	TypeIQ3_S   GGMLType = 21
	TypeIQ2_S   GGMLType = 22
	TypeIQ4_XS  GGMLType = 23
	TypeI8      GGMLType = 24
	TypeI16     GGMLType = 25
	TypeI32     GGMLType = 26
	TypeI64     GGMLType = 27
	TypeF64     GGMLType = 28
	TypeIQ1_M   GGMLType = 29
	TypeBF16    GGMLType = 30
	TypeTQ1_0   GGMLType = 34
	TypeTQ2_0   GGMLType = 35
	TypeMXFP4   GGMLType = 39
)

// typeLayout describes how a GGML type packs values: blocks of blockSize
// values take blockBytes bytes. blockBytes is 0 for ids that were retired
// and whose layout is no longer defined.
type typeLayout struct {
	name                  string
	blockSize, blockBytes uint64
}

// layout returns the name and block layout of t, and false for unknown ids.
func (t GGMLType) layout() (typeLayout, bool) {
	switch t {
	case TypeF32:
		return typeLayout{"f32", 1, 4}, true
	case TypeF16:
		return typeLayout{"f16", 1, 2}, true
	case TypeQ4_0:
		return typeLayout{"q4_0", 32, 18}, true
	case TypeQ4_1:
		return typeLayout{"q4_1", 32, 20}, true
	case 4:
		return typeLayout{"q4_2", 0, 0}, true
	case 5:
		return typeLayout{"q4_3", 0, 0}, true
	case TypeQ5_0:
		return typeLayout{"q5_0", 32, 22}, true
	case TypeQ5_1:
		return typeLayout{"q5_1", 32, 24}, true
	case TypeQ8_0:
		return typeLayout{"q8_0", 32, 34}, true
	case TypeQ8_1:
		return typeLayout{"q8_1", 32, 36}, true
	case TypeQ2_K:
		return typeLayout{"q2_K", 256, 84}, true
	case TypeQ3_K:
		return typeLayout{"q3_K", 256, 110}, true
	case TypeQ4_K:
		return typeLayout{"q4_K", 256, 144}, true
	case TypeQ5_K:
		return typeLayout{"q5_K", 256, 176}, true
	case TypeQ6_K:
		return typeLayout{"q6_K", 256, 210}, true
	case TypeQ8_K:
		return typeLayout{"q8_K", 256, 292}, true
	case TypeIQ2_XXS:
		return typeLayout{"iq2_xxs", 256, 66}, true
	case TypeIQ2_XS:
		return typeLayout{"iq2_xs", 256, 74}, true
	case TypeIQ3_XXS:
		return typeLayout{"iq3_xxs", 256, 98}, true
	case TypeIQ1_S:
		return typeLayout{"iq1_s", 256, 50}, true
	case TypeIQ4_NL:
		return typeLayout{"iq4_nl", 32, 18}, true
	case TypeIQ3_S:
		return typeLayout{"iq3_s", 256, 110}, true
	case TypeIQ2_S:
		return typeLayout{"iq2_s", 256, 82}, true
	case TypeIQ4_XS:
		return typeLayout{"iq4_xs", 256, 136}, true
	case TypeI8:
		return typeLayout{"i8", 1, 1}, true
	case TypeI16:
		return typeLayout{"i16", 1, 2}, true
	case TypeI32:
		return typeLayout{"i32", 1, 4}, true
	case TypeI64:
		return typeLayout{"i64", 1, 8}, true
	case TypeF64:
		return typeLayout{"f64", 1, 8}, true
	case TypeIQ1_M:
		return typeLayout{"iq1_m", 256, 56}, true
	case TypeBF16:
		return typeLayout{"bf16", 1, 2}, true
	case 31:
		return typeLayout{"q4_0_4_4", 0, 0}, true
	case 32:
		return typeLayout{"q4_0_4_8", 0, 0}, true
	case 33:
		return typeLayout{"q4_0_8_8", 0, 0}, true
	case TypeTQ1_0:
		return typeLayout{"tq1_0", 256, 54}, true
	case TypeTQ2_0:
		return typeLayout{"tq2_0", 256, 66}, true
	case 36:
		return typeLayout{"iq4_nl_4_4", 0, 0}, true
	case 37:
		return typeLayout{"iq4_nl_4_8", 0, 0}, true
	case 38:
		return typeLayout{"iq4_nl_8_8", 0, 0}, true
	case TypeMXFP4:
		return typeLayout{"mxfp4", 32, 17}, true
	}
	return typeLayout{}, false
}

// String returns GGML's name for the type, e.g. "q4_K".
func (t GGMLType) String() string {
	if l, ok := t.layout(); ok {
		return l.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// DType returns the kernels type for t, and false when the kernels cannot read t.
func (t GGMLType) DType() (kernels.DType, bool) {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ4_0, TypeQ4_1, TypeQ5_0, TypeQ5_1, TypeQ8_0,
		TypeQ2_K, TypeQ3_K, TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeIQ4_NL, TypeIQ4_XS:
		// The kernels use GGML's ids and layouts.
		return kernels.DType(t), true
	}
	return 0, false
}

// dataSize returns the bytes a tensor of type t and shape ne occupies, or an
// error message when the layout is unknown, the first dimension is not a whole
// number of blocks, or the size overflows.
func dataSize(t GGMLType, ne []uint64) (uint64, string) {
	l, ok := t.layout()
	if !ok || l.blockBytes == 0 {
		return 0, "unsupported tensor type " + t.String()
	}
	if len(ne) == 0 {
		return 0, "no dimensions"
	}
	if ne[0]%l.blockSize != 0 {
		return 0, fmt.Sprintf("first dimension %d is not a multiple of the %s block size %d", ne[0], l.name, l.blockSize)
	}
	const limit = 1 << 62
	blocks := ne[0] / l.blockSize
	if blocks > limit/l.blockBytes {
		return 0, fmt.Sprintf("shape %v overflows", ne)
	}
	size := blocks * l.blockBytes
	for _, n := range ne[1:] {
		if n != 0 && size > limit/n {
			return 0, fmt.Sprintf("shape %v overflows", ne)
		}
		size *= n
	}
	if size > limit {
		return 0, fmt.Sprintf("shape %v overflows", ne)
	}
	return size, ""
}
