package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"sieve/model"
)

// maxArrayDepth bounds the nesting of metadata arrays of arrays.
const maxArrayDepth = 16

// decoder reads little-endian GGUF fields from an in-memory file. The first
// error sticks: later reads return zero values, and err reports the first.
type decoder struct {
	buf []byte
	off int
	err error
}

// fail records a model.ErrBadModel error at the current offset, unless one is recorded.
func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: gguf at offset %d: %s", model.ErrBadModel, d.off, fmt.Sprintf(format, args...))
	}
}

// remaining returns the number of unread bytes.
func (d *decoder) remaining() uint64 { return uint64(len(d.buf) - d.off) }

// take returns the next n bytes, or nil after recording a truncation error.
func (d *decoder) take(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.remaining() {
		d.fail("truncated %s (%d bytes needed, %d left)", what, n, d.remaining())
		return nil
	}
	b := d.buf[d.off : d.off+int(n)]
	d.off += int(n)
	return b
}

func (d *decoder) u8(what string) uint8 {
	if b := d.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16(what string) uint16 {
	if b := d.take(2, what); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if b := d.take(4, what); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if b := d.take(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads nothing; it checks that n items of at least minSize bytes each
// can fit in the rest of the file, so that allocating n items is safe.
func (d *decoder) count(n, minSize uint64, what string) (int, bool) {
	if d.err != nil {
		return 0, false
	}
	if minSize > 0 && n > d.remaining()/minSize {
		d.fail("%s count %d does not fit in the %d bytes left", what, n, d.remaining())
		return 0, false
	}
	return int(n), true
}

// str reads a uint64 length and that many bytes as a string (a copy).
func (d *decoder) str(what string) string {
	n := d.u64(what + " length")
	if d.err != nil {
		return ""
	}
	if n > d.remaining() {
		d.fail("%s length %d exceeds the %d bytes left", what, n, d.remaining())
		return ""
	}
	return string(d.take(n, what))
}

// boolean reads one byte that must be 0 or 1.
func (d *decoder) boolean(what string) bool {
	b := d.u8(what)
	if b > 1 {
		d.off--
		d.fail("%s has bool value %d", what, b)
	}
	return b == 1
}

// value reads one metadata value of type t.
func (d *decoder) value(t valueType, depth int) any {
	switch t {
	case valUint8:
		return d.u8("uint8 value")
	case valInt8:
		return int8(d.u8("int8 value"))
	case valUint16:
		return d.u16("uint16 value")
	case valInt16:
		return int16(d.u16("int16 value"))
	case valUint32:
		return d.u32("uint32 value")
	case valInt32:
		return int32(d.u32("int32 value"))
	case valUint64:
		return d.u64("uint64 value")
	case valInt64:
		return int64(d.u64("int64 value"))
	case valFloat32:
		return math.Float32frombits(d.u32("float32 value"))
	case valFloat64:
		return math.Float64frombits(d.u64("float64 value"))
	case valBool:
		return d.boolean("bool value")
	case valString:
		return d.str("string value")
	case valArray:
		return d.array(depth + 1)
	}
	d.fail("unknown metadata value type %d", t)
	return nil
}

// array reads an array header (element type, count) and its elements into a
// typed slice ([]any for arrays of arrays).
func (d *decoder) array(depth int) any {
	if depth > maxArrayDepth {
		d.fail("metadata arrays nested deeper than %d", maxArrayDepth)
		return nil
	}
	elem := valueType(d.u32("array element type"))
	n64 := d.u64("array length")
	if d.err != nil {
		return nil
	}
	size, ok := elem.minSize()
	if !ok {
		d.fail("unknown array element type %d", elem)
		return nil
	}
	n, ok := d.count(n64, size, "array element")
	if !ok {
		return nil
	}
	switch elem {
	case valUint8:
		b := d.take(uint64(n), "uint8 array")
		if d.err != nil {
			return nil
		}
		return append(make([]uint8, 0, n), b...)
	case valInt8:
		return fixed(d, n, 1, func(b []byte) int8 { return int8(b[0]) })
	case valUint16:
		return fixed(d, n, 2, binary.LittleEndian.Uint16)
	case valInt16:
		return fixed(d, n, 2, func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) })
	case valUint32:
		return fixed(d, n, 4, binary.LittleEndian.Uint32)
	case valInt32:
		return fixed(d, n, 4, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case valUint64:
		return fixed(d, n, 8, binary.LittleEndian.Uint64)
	case valInt64:
		return fixed(d, n, 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
	case valFloat32:
		return fixed(d, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case valFloat64:
		return fixed(d, n, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	case valBool:
		out := make([]bool, n)
		for i := range out {
			out[i] = d.boolean("bool array element")
		}
		return out
	case valString:
		out := make([]string, n)
		for i := range out {
			if out[i] = d.str("string array element"); d.err != nil {
				return nil
			}
		}
		return out
	}
	out := make([]any, n) // arrays of arrays
	for i := range out {
		if out[i] = d.array(depth + 1); d.err != nil {
			return nil
		}
	}
	return out
}

// fixed decodes n fixed-size elements of size bytes each.
func fixed[T any](d *decoder, n, size int, decode func([]byte) T) []T {
	b := d.take(uint64(n)*uint64(size), "array data")
	if d.err != nil {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = decode(b[i*size : (i+1)*size])
	}
	return out
}
