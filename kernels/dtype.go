package kernels

import "fmt"

// DType is the storage type of a weight matrix.
type DType uint8

// Supported weight types. The numeric values match GGML's type ids so that
// GGUF files map onto them directly; the block layouts are GGML's too.
const (
	F32    DType = 0
	F16    DType = 1
	Q4_0   DType = 2
	Q4_1   DType = 3
	Q5_0   DType = 6
	Q5_1   DType = 7
	Q8_0   DType = 8
	Q2_K   DType = 10
	Q3_K   DType = 11
	Q4_K   DType = 12
	Q5_K   DType = 13
	Q6_K   DType = 14
	IQ4_NL DType = 20
	IQ4_XS DType = 23
	BF16   DType = 30
)

// numDTypes bounds the type ids, for tables indexed by type.
const numDTypes = 31

// Q8Block is the number of values in one Q8_0 block, and in one block of
// every other 32-value quantized type (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL).
const Q8Block = 32

// SuperBlock is the number of values in one block of the K-quant types
// (Q2_K to Q6_K) and IQ4_XS.
const SuperBlock = 256

// q8BlockBytes is the size of one Q8_0 block: an F16 scale and 32 int8 values.
const q8BlockBytes = 2 + Q8Block

// typeInfo is the name and block layout of a type: blocks of block values
// take bytes bytes.
type typeInfo struct {
	name         string
	block, bytes int
}

// info returns the layout of t, and false for a type the kernels cannot read.
func (t DType) info() (typeInfo, bool) {
	switch t {
	case F32:
		return typeInfo{"f32", 1, 4}, true
	case F16:
		return typeInfo{"f16", 1, 2}, true
	case BF16:
		return typeInfo{"bf16", 1, 2}, true
	case Q4_0:
		return typeInfo{"q4_0", Q8Block, 18}, true
	case Q4_1:
		return typeInfo{"q4_1", Q8Block, 20}, true
	case Q5_0:
		return typeInfo{"q5_0", Q8Block, 22}, true
	case Q5_1:
		return typeInfo{"q5_1", Q8Block, 24}, true
	case Q8_0:
		return typeInfo{"q8_0", Q8Block, q8BlockBytes}, true
	case IQ4_NL:
		return typeInfo{"iq4_nl", Q8Block, 18}, true
	case Q2_K:
		return typeInfo{"q2_K", SuperBlock, 84}, true
	case Q3_K:
		return typeInfo{"q3_K", SuperBlock, 110}, true
	case Q4_K:
		return typeInfo{"q4_K", SuperBlock, 144}, true
	case Q5_K:
		return typeInfo{"q5_K", SuperBlock, 176}, true
	case Q6_K:
		return typeInfo{"q6_K", SuperBlock, 210}, true
	case IQ4_XS:
		return typeInfo{"iq4_xs", SuperBlock, 136}, true
	}
	return typeInfo{}, false
}

// String returns the GGML name of the type ("f32", "q4_K", ...).
func (t DType) String() string {
	if i, ok := t.info(); ok {
		return i.name
	}
	return fmt.Sprintf("dtype(%d)", uint8(t))
}

// Valid reports whether t is a type the kernels can read.
func (t DType) Valid() bool {
	_, ok := t.info()
	return ok
}

// Float reports whether t is a float type (F32, F16 or BF16).
func (t DType) Float() bool { return t == F32 || t == F16 || t == BF16 }

// BlockSize returns the number of values of one block of t: 1 for the
// float types, 32 or 256 for the quantized ones. A row's length must be a
// multiple of it.
func (t DType) BlockSize() int {
	i, ok := t.info()
	if !ok {
		panic("kernels: BlockSize of invalid type " + t.String())
	}
	return i.block
}

// kQuant reports whether t is quantized in 256-value super-blocks, whose
// products take activations quantized by quantizeActQ8K.
func (t DType) kQuant() bool { return t.Valid() && t.BlockSize() == SuperBlock }

// RowBytes returns the number of bytes one row of cols values occupies.
// cols must be a multiple of t.BlockSize().
func (t DType) RowBytes(cols int) int {
	i, ok := t.info()
	if !ok {
		panic("kernels: RowBytes of invalid type " + t.String())
	}
	return cols / i.block * i.bytes
}

// Mat is a row-major matrix stored in Type. Data usually points into a
// memory-mapped model file; the kernels read it in place.
type Mat struct {
	Type       DType
	Rows, Cols int
	Data       []byte
}

// Row returns the bytes of row i.
func (m Mat) Row(i int) []byte {
	n := m.Type.RowBytes(m.Cols)
	return m.Data[i*n : (i+1)*n]
}
