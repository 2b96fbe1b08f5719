package gguf

// valueType is the type id of a metadata value in a GGUF file.
type valueType uint32

// GGUF metadata value types.
const (
	valUint8   valueType = 0
	valInt8    valueType = 1
	valUint16  valueType = 2
	valInt16   valueType = 3
	valUint32  valueType = 4
	valInt32   valueType = 5
	valFloat32 valueType = 6
	valBool    valueType = 7
	valString  valueType = 8
	valArray   valueType = 9
	valUint64  valueType = 10
	valInt64   valueType = 11
	valFloat64 valueType = 12
)

// minSize returns the fewest bytes a value of type t can occupy in a file
// (a string's or an array's header), and false for unknown types.
func (t valueType) minSize() (uint64, bool) {
	switch t {
	case valUint8, valInt8, valBool:
		return 1, true
	case valUint16, valInt16:
		return 2, true
	case valUint32, valInt32, valFloat32:
		return 4, true
	case valUint64, valInt64, valFloat64, valString:
		return 8, true
	case valArray:
		return 12, true // element type and count
	}
	return 0, false
}

// valueTypeOf returns the GGUF type of a Go metadata value, and for arrays the
// element type. ok is false for Go types GGUF cannot hold.
func valueTypeOf(v any) (t, elem valueType, ok bool) {
	switch v.(type) {
	case uint8:
		return valUint8, 0, true
	case int8:
		return valInt8, 0, true
	case uint16:
		return valUint16, 0, true
	case int16:
		return valInt16, 0, true
	case uint32:
		return valUint32, 0, true
	case int32:
		return valInt32, 0, true
	case uint64:
		return valUint64, 0, true
	case int64:
		return valInt64, 0, true
	case float32:
		return valFloat32, 0, true
	case float64:
		return valFloat64, 0, true
	case bool:
		return valBool, 0, true
	case string:
		return valString, 0, true
	case []uint8:
		return valArray, valUint8, true
	case []int8:
		return valArray, valInt8, true
	case []uint16:
		return valArray, valUint16, true
	case []int16:
		return valArray, valInt16, true
	case []uint32:
		return valArray, valUint32, true
	case []int32:
		return valArray, valInt32, true
	case []uint64:
		return valArray, valUint64, true
	case []int64:
		return valArray, valInt64, true
	case []float32:
		return valArray, valFloat32, true
	case []float64:
		return valArray, valFloat64, true
	case []bool:
		return valArray, valBool, true
	case []string:
		return valArray, valString, true
	case []any:
		return valArray, valArray, true
	}
	return 0, 0, false
}
