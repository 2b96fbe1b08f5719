package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxNameLen is the longest tensor name GGML accepts.
const maxNameLen = 63

// Writer streams a GGUF v3 file: first every metadata pair and tensor
// declaration, then the tensors' data, in declaration order, through Write.
// The header goes out with the first Write (or at Close), so nothing but the
// metadata is held in memory. Padding between tensors is inserted itself.
type Writer struct {
	w       io.Writer
	kv      bytes.Buffer // encoded metadata pairs
	nKV     int
	keys    map[string]bool
	align   uint64
	tensors []TensorInfo
	names   map[string]bool
	started bool   // header written
	cur     int    // tensor receiving data
	pos     uint64 // bytes written into the data section
	err     error
}

// NewWriter returns a Writer that writes a GGUF file to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, keys: map[string]bool{}, names: map[string]bool{}, align: DefaultAlignment}
}

// AddKV appends a metadata pair. value must be one of the Go types the reader
// produces: uint8 ... float64, bool, string, a slice of one of those, or
// []any whose elements are such slices. general.alignment (a uint32 power of
// two) also sets the alignment of the data.
func (w *Writer) AddKV(key string, value any) error {
	if w.started {
		return errors.New("gguf: metadata added after tensor data")
	}
	if w.keys[key] {
		return fmt.Errorf("gguf: duplicate metadata key %q", key)
	}
	if key == "general.alignment" {
		a, ok := value.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 || a > maxAlignment {
			return fmt.Errorf("gguf: general.alignment %v must be a uint32 power of two", value)
		}
		w.align = uint64(a)
	}
	var buf bytes.Buffer
	putString(&buf, key)
	if err := putValue(&buf, value, 0); err != nil {
		return fmt.Errorf("gguf: metadata %q: %w", key, err)
	}
	w.kv.Write(buf.Bytes())
	w.keys[key] = true
	w.nKV++
	return nil
}

// AddTensor declares a tensor of type typ and GGML shape ne (ne[0] is the
// number of columns). Its data must later be written in declaration order.
func (w *Writer) AddTensor(name string, typ GGMLType, ne ...uint64) error {
	if w.started {
		return errors.New("gguf: tensor declared after tensor data")
	}
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("gguf: tensor name %q must have 1 to %d bytes", name, maxNameLen)
	}
	if w.names[name] {
		return fmt.Errorf("gguf: duplicate tensor %q", name)
	}
	if len(ne) == 0 || len(ne) > maxDims {
		return fmt.Errorf("gguf: tensor %q has %d dimensions (1 to %d allowed)", name, len(ne), maxDims)
	}
	size, problem := dataSize(typ, ne)
	if problem != "" {
		return fmt.Errorf("gguf: tensor %q: %s", name, problem)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, TensorInfo{Name: name, Shape: append([]uint64(nil), ne...), Type: typ, Size: size})
	return nil
}

// Write writes tensor data: the bytes continue the current tensor and run on
// into the next ones in declaration order. It fails past the last tensor.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.start(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		w.skipFull()
		if w.cur == len(w.tensors) {
			w.err = errors.New("gguf: more data written than the tensors declared")
			return n, w.err
		}
		t := w.tensors[w.cur]
		if err := w.padTo(t.Offset); err != nil {
			return n, err
		}
		k := int(min(uint64(len(p)), t.Offset+t.Size-w.pos))
		if _, err := w.w.Write(p[:k]); err != nil {
			w.err = err
			return n, err
		}
		w.pos += uint64(k)
		n += k
		p = p[k:]
	}
	return n, nil
}

// Close writes the header if no data was written, pads the end of the data,
// and checks that every tensor received all its bytes. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if err := w.start(); err != nil {
		return err
	}
	w.skipFull()
	if w.cur < len(w.tensors) {
		t := w.tensors[w.cur]
		w.err = fmt.Errorf("gguf: tensor %q got %d of its %d bytes", t.Name, w.pos-min(w.pos, t.Offset), t.Size)
		return w.err
	}
	return w.padTo(alignUp(w.pos, w.align))
}

// skipFull moves cur past every tensor whose data is complete (or empty).
func (w *Writer) skipFull() {
	for w.cur < len(w.tensors) && (w.tensors[w.cur].Size == 0 || w.pos >= w.tensors[w.cur].Offset+w.tensors[w.cur].Size) {
		w.cur++
	}
}

// start lays out the data section and writes the header, once.
func (w *Writer) start() error {
	if w.err != nil || w.started {
		return w.err
	}
	w.started = true
	var off uint64
	for i := range w.tensors {
		off = alignUp(off, w.align)
		w.tensors[i].Offset = off
		off += w.tensors[i].Size
	}
	var h bytes.Buffer
	le := binary.LittleEndian
	h.Write(le.AppendUint32(nil, magic))
	h.Write(le.AppendUint32(nil, 3))
	h.Write(le.AppendUint64(nil, uint64(len(w.tensors))))
	h.Write(le.AppendUint64(nil, uint64(w.nKV)))
	h.Write(w.kv.Bytes())
	for _, t := range w.tensors {
		putString(&h, t.Name)
		h.Write(le.AppendUint32(nil, uint32(len(t.Shape))))
		for _, n := range t.Shape {
			h.Write(le.AppendUint64(nil, n))
		}
		h.Write(le.AppendUint32(nil, uint32(t.Type)))
		h.Write(le.AppendUint64(nil, t.Offset))
	}
	h.Write(make([]byte, alignUp(uint64(h.Len()), w.align)-uint64(h.Len())))
	if _, err := w.w.Write(h.Bytes()); err != nil {
		w.err = err
	}
	w.kv = bytes.Buffer{}
	return w.err
}

// padTo writes zeros up to data-section offset off.
func (w *Writer) padTo(off uint64) error {
	var zeros [512]byte
	for w.pos < off {
		k := min(off-w.pos, uint64(len(zeros)))
		if _, err := w.w.Write(zeros[:k]); err != nil {
			w.err = err
			return err
		}
		w.pos += k
	}
	return nil
}

// alignUp rounds n up to a multiple of a (a power of two).
func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// putString appends a GGUF string: a uint64 length and the bytes.
func putString(b *bytes.Buffer, s string) {
	b.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(s))))
	b.WriteString(s)
}

// putValue appends a value's type id and its encoding.
func putValue(b *bytes.Buffer, v any, depth int) error {
	t, _, ok := valueTypeOf(v)
	if !ok {
		return fmt.Errorf("unsupported value type %T", v)
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(t)))
	return putPayload(b, v, depth)
}

// putPayload appends a value's encoding without its type id.
func putPayload(b *bytes.Buffer, v any, depth int) error {
	le := binary.LittleEndian
	switch x := v.(type) {
	case uint8:
		b.WriteByte(x)
	case int8:
		b.WriteByte(byte(x))
	case uint16:
		b.Write(le.AppendUint16(nil, x))
	case int16:
		b.Write(le.AppendUint16(nil, uint16(x)))
	case uint32:
		b.Write(le.AppendUint32(nil, x))
	case int32:
		b.Write(le.AppendUint32(nil, uint32(x)))
	case uint64:
		b.Write(le.AppendUint64(nil, x))
	case int64:
		b.Write(le.AppendUint64(nil, uint64(x)))
	case float32:
		b.Write(le.AppendUint32(nil, math.Float32bits(x)))
	case float64:
		b.Write(le.AppendUint64(nil, math.Float64bits(x)))
	case bool:
		if x {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
	case string:
		putString(b, x)
	default:
		return putArray(b, v, depth+1)
	}
	return nil
}

// putArray appends an array: element type, length, elements.
func putArray(b *bytes.Buffer, v any, depth int) error {
	if depth > maxArrayDepth {
		return fmt.Errorf("arrays nested deeper than %d", maxArrayDepth)
	}
	_, elem, _ := valueTypeOf(v)
	switch x := v.(type) {
	case []uint8:
		return putElems(b, elem, x, depth)
	case []int8:
		return putElems(b, elem, x, depth)
	case []uint16:
		return putElems(b, elem, x, depth)
	case []int16:
		return putElems(b, elem, x, depth)
	case []uint32:
		return putElems(b, elem, x, depth)
	case []int32:
		return putElems(b, elem, x, depth)
	case []uint64:
		return putElems(b, elem, x, depth)
	case []int64:
		return putElems(b, elem, x, depth)
	case []float32:
		return putElems(b, elem, x, depth)
	case []float64:
		return putElems(b, elem, x, depth)
	case []bool:
		return putElems(b, elem, x, depth)
	case []string:
		return putElems(b, elem, x, depth)
	case []any:
		for _, e := range x {
			if t, _, ok := valueTypeOf(e); !ok || t != valArray {
				return fmt.Errorf("array of arrays holds a %T", e)
			}
		}
		return putElems(b, elem, x, depth)
	}
	return fmt.Errorf("unsupported value type %T", v)
}

// putElems appends an array header and its elements' encodings.
func putElems[T any](b *bytes.Buffer, elem valueType, xs []T, depth int) error {
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(elem)))
	b.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(xs))))
	for _, x := range xs {
		var err error
		if elem == valArray {
			err = putArray(b, x, depth+1)
		} else {
			err = putPayload(b, x, depth)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
