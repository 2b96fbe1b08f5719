package kernels

import "fmt"

// DType is the storage type of a weight matrix.
type DType uint8

// Supported weight types. The numeric values match GGML's type ids so that
// GGUF files map onto them directly.
const (
	F32  DType = 0
	F16  DType = 1
	Q8_0 DType = 8
	BF16 DType = 30
)

// Q8Block is the number of values in one Q8_0 block.
const Q8Block = 32

// q8BlockBytes is the size of one Q8_0 block: an F16 scale and 32 int8 values.
const q8BlockBytes = 2 + Q8Block

// String returns the lower-case GGML name of the type.
func (t DType) String() string {
	switch t {
	case F32:
		return "f32"
	case F16:
		return "f16"
	case BF16:
		return "bf16"
	case Q8_0:
		return "q8_0"
	}
	return fmt.Sprintf("dtype(%d)", uint8(t))
}

// Valid reports whether t is a type the kernels can read.
func (t DType) Valid() bool {
	switch t {
	case F32, F16, BF16, Q8_0:
		return true
	}
	return false
}

// RowBytes returns the number of bytes one row of cols values occupies.
// For Q8_0, cols must be a multiple of Q8Block.
func (t DType) RowBytes(cols int) int {
	switch t {
	case F32:
		return 4 * cols
	case F16, BF16:
		return 2 * cols
	case Q8_0:
		return cols / Q8Block * q8BlockBytes
	}
	panic("kernels: RowBytes of invalid type " + t.String())
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
