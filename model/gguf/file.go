// Package gguf reads and writes GGUF model files (versions 2 and 3,
// little-endian): metadata, tensor descriptions, and tensor data read in
// place from a memory map.
package gguf

import (
	"fmt"
	"math"
	"math/bits"

	"sieve/internal/mmap"
	"sieve/kernels"
	"sieve/model"
)

// magic is "GGUF" read as a little-endian uint32.
const magic = 0x46554747

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// maxAlignment bounds general.alignment so that aligning offsets cannot overflow.
const maxAlignment = 1 << 30

// maxTensorName bounds tensor names when reading (GGML itself allows 63 bytes).
const maxTensorName = 256

// maxDims is the most dimensions a GGML tensor has.
const maxDims = 4

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Shape  []uint64 // GGML ne: Shape[0] is the fastest-varying dimension (columns)
	Type   GGMLType
	Offset uint64 // from the start of the data section
	Size   uint64 // bytes
}

// File is an open GGUF file. Metadata values are copies and outlive the
// file; tensor data is read in place and stays valid until Close.
type File struct {
	Version   int
	Alignment int
	Metadata  map[string]any
	Keys      []string // metadata keys in file order
	Tensors   []TensorInfo

	path   string
	mm     *mmap.File
	data   []byte // the data section
	byName map[string]int
}

// Open memory-maps and parses the GGUF file at path.
func Open(path string) (*File, error) {
	mm, err := mmap.Open(path)
	if err != nil {
		return nil, err
	}
	f, err := parse(mm.Bytes())
	if err != nil {
		mm.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path, f.mm = path, mm
	return f, nil
}

// Parse reads a GGUF file held in memory. Its tensor data is read in place
// from buf, which must stay unchanged while the file or a model built from
// it is in use; for the in-place reads of typed tensors, buf should be
// aligned as a memory map would be (8 bytes at least).
func Parse(buf []byte) (*File, error) {
	return parse(buf)
}

// Close unmaps the file; tensor data from it must not be used afterwards.
func (f *File) Close() error {
	f.data = nil
	if f.mm == nil {
		return nil
	}
	return f.mm.Close()
}

// parse reads the header, metadata and tensor infos of a GGUF file held in buf.
func parse(buf []byte) (*File, error) {
	d := &decoder{buf: buf}
	if m := d.u32("magic"); d.err == nil && m != magic {
		return nil, fmt.Errorf("%w: not a GGUF file (magic %q)", model.ErrBadModel, buf[:4])
	}
	version := d.u32("version")
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, fmt.Errorf("%w: GGUF version 1", model.ErrUnsupported)
	case version == 0:
		return nil, fmt.Errorf("%w: GGUF version 0", model.ErrBadModel)
	case version&0xffff == 0 && bits.ReverseBytes32(version) <= 3:
		return nil, fmt.Errorf("%w: big-endian GGUF", model.ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: GGUF version %d", model.ErrUnsupported, version)
	}
	f := &File{Version: int(version), Metadata: map[string]any{}, byName: map[string]int{}}
	nTensors := d.u64("tensor count")
	nKV := d.u64("metadata count")
	if d.err != nil {
		return nil, d.err
	}
	// A key-value pair takes at least a key length, a value type and one byte.
	if n, ok := d.count(nKV, 8+4+1, "metadata"); ok {
		f.Keys = make([]string, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			f.readKV(d)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := f.setAlignment(); err != nil {
		return nil, err
	}
	// A tensor info takes at least a name length, n_dims, one dimension, a type and an offset.
	if n, ok := d.count(nTensors, 8+4+8+4+8, "tensor"); ok {
		f.Tensors = make([]TensorInfo, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			f.readTensorInfo(d)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return f, f.locateData(buf, uint64(d.off))
}

// readKV reads one metadata key-value pair.
func (f *File) readKV(d *decoder) {
	key := d.str("metadata key")
	t := valueType(d.u32("metadata value type"))
	if d.err != nil {
		return
	}
	if _, dup := f.Metadata[key]; dup {
		d.fail("duplicate metadata key %q", key)
		return
	}
	v := d.value(t, 0)
	if d.err != nil {
		return
	}
	f.Metadata[key] = v
	f.Keys = append(f.Keys, key)
}

// setAlignment applies general.alignment.
func (f *File) setAlignment() error {
	f.Alignment = DefaultAlignment
	v, present := f.Metadata["general.alignment"]
	if !present {
		return nil
	}
	a, ok := f.Uint("general.alignment")
	if !ok || a == 0 || a&(a-1) != 0 || a > maxAlignment {
		return fmt.Errorf("%w: general.alignment %v is not a power of two up to %d", model.ErrBadModel, v, maxAlignment)
	}
	f.Alignment = int(a)
	return nil
}

// readTensorInfo reads one tensor description and checks its shape and type.
func (f *File) readTensorInfo(d *decoder) {
	name := d.str("tensor name")
	nDims := d.u32("tensor dimension count")
	if d.err != nil {
		return
	}
	if len(name) > maxTensorName {
		d.fail("tensor name of %d bytes (at most %d allowed)", len(name), maxTensorName)
		return
	}
	if nDims == 0 || nDims > maxDims {
		d.fail("tensor %q has %d dimensions (1 to %d allowed)", name, nDims, maxDims)
		return
	}
	shape := make([]uint64, nDims)
	for i := range shape {
		shape[i] = d.u64("tensor dimension")
	}
	typ := GGMLType(d.u32("tensor type"))
	offset := d.u64("tensor offset")
	if d.err != nil {
		return
	}
	if _, dup := f.byName[name]; dup {
		d.fail("duplicate tensor %q", name)
		return
	}
	if l, known := typ.layout(); !known || l.blockBytes == 0 {
		d.err = fmt.Errorf("%w: tensor %q: unsupported tensor type %s", model.ErrUnsupported, name, typ)
		return
	}
	size, problem := dataSize(typ, shape)
	if problem != "" {
		d.fail("tensor %q: %s", name, problem)
		return
	}
	f.byName[name] = len(f.Tensors)
	f.Tensors = append(f.Tensors, TensorInfo{Name: name, Shape: shape, Type: typ, Offset: offset, Size: size})
}

// locateData finds the aligned data section after the header (which ends at
// end) and checks that every tensor is aligned, inside the file, and that
// the tensors tile the data section (checkLayout).
func (f *File) locateData(buf []byte, end uint64) error {
	a := uint64(f.Alignment)
	start := (end + a - 1) / a * a
	if start > uint64(len(buf)) {
		start = uint64(len(buf)) // only zero-size tensors can fit
	}
	f.data = buf[start:]
	avail := uint64(len(f.data))
	for _, t := range f.Tensors {
		if t.Offset%a != 0 {
			return fmt.Errorf("%w: tensor %q offset %d is not a multiple of the alignment %d", model.ErrBadModel, t.Name, t.Offset, a)
		}
		if t.Offset > avail || t.Size > avail-t.Offset {
			return fmt.Errorf("%w: tensor %q data [%d, %d) lies past the end of the %d-byte data section (truncated file?)",
				model.ErrBadModel, t.Name, t.Offset, t.Offset+t.Size, avail)
		}
	}
	return checkLayout(f.Tensors, avail, a)
}

// Uint returns an integer metadata value of any integer type, and false when
// the key is absent, not an integer, or negative.
func (f *File) Uint(key string) (uint64, bool) {
	switch v := f.Metadata[key].(type) {
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	}
	if i, ok := f.signed(key); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

// Int returns an integer metadata value of any integer type, and false when
// the key is absent, not an integer, or does not fit in an int64.
func (f *File) Int(key string) (int64, bool) {
	switch v := f.Metadata[key].(type) {
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		if v > math.MaxInt64 {
			return 0, false
		}
		return int64(v), true
	}
	return f.signed(key)
}

// signed returns a signed integer metadata value.
func (f *File) signed(key string) (int64, bool) {
	switch v := f.Metadata[key].(type) {
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// Float returns a floating-point (or integer) metadata value as float64.
func (f *File) Float(key string) (float64, bool) {
	switch v := f.Metadata[key].(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	if i, ok := f.Int(key); ok {
		return float64(i), true
	}
	if u, ok := f.Uint(key); ok {
		return float64(u), true
	}
	return 0, false
}

// String returns a string metadata value.
func (f *File) String(key string) (string, bool) {
	s, ok := f.Metadata[key].(string)
	return s, ok
}

// Bool returns a boolean metadata value.
func (f *File) Bool(key string) (bool, bool) {
	b, ok := f.Metadata[key].(bool)
	return b, ok
}

// Tensor returns the named tensor as a matrix whose Data is the file's bytes
// in place: a 1-D tensor is one row; dimensions past the second must be 1.
func (f *File) Tensor(name string) (kernels.Mat, error) {
	i, ok := f.byName[name]
	if !ok {
		return kernels.Mat{}, fmt.Errorf("%w: tensor %q not found", model.ErrBadModel, name)
	}
	t := f.Tensors[i]
	dt, ok := t.Type.DType()
	if !ok {
		return kernels.Mat{}, fmt.Errorf("%w: tensor %q: unsupported tensor type %s", model.ErrUnsupported, name, t.Type)
	}
	rows := uint64(1)
	if len(t.Shape) > 1 {
		rows = t.Shape[1]
	}
	for _, n := range t.Shape[min(2, len(t.Shape)):] {
		if n != 1 {
			return kernels.Mat{}, fmt.Errorf("%w: tensor %q has shape %v; only 1-D and 2-D tensors are read", model.ErrUnsupported, name, t.Shape)
		}
	}
	if rows > math.MaxInt32 || t.Shape[0] > math.MaxInt32 {
		return kernels.Mat{}, fmt.Errorf("%w: tensor %q shape %v is too large", model.ErrBadModel, name, t.Shape)
	}
	if f.data == nil {
		return kernels.Mat{}, fmt.Errorf("gguf: tensor %q read from a closed file", name)
	}
	return kernels.Mat{
		Type: dt,
		Rows: int(rows),
		Cols: int(t.Shape[0]),
		Data: f.data[t.Offset : t.Offset+t.Size : t.Offset+t.Size],
	}, nil
}

// has reports whether the file holds a tensor of that name.
func (f *File) has(name string) bool {
	_, ok := f.byName[name]
	return ok
}
