package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"

	"sieve/internal/mmap"
	"sieve/model"
)

// maxHeaderBytes bounds the JSON header, as the format's reference reader does.
const maxHeaderBytes = 100 << 20

// maxElems bounds a tensor's element count so that sizes cannot overflow.
const maxElems = 1 << 58

// tensorInfo is one entry of a safetensors header.
type tensorInfo struct {
	DType   string  `json:"dtype"`
	Shape   []int64 `json:"shape"`
	Offsets []int64 `json:"data_offsets"` // [begin, end) within the data section
}

// tensor is a tensor located in a mapped file.
type tensor struct {
	dtype string
	shape []int
	data  []byte // in place in the mapping
	file  string // the file holding it, relative to the model directory
}

// elemBytes returns the size of one element of a safetensors dtype, or 0
// for a dtype Sieve cannot read.
func elemBytes(dtype string) int {
	switch dtype {
	case "F32":
		return 4
	case "F16", "BF16":
		return 2
	}
	return 0
}

// openFile maps a safetensors file and indexes its tensors. On success the
// caller owns the returned mapping.
func openFile(path string) (*mmap.File, map[string]tensor, error) {
	f, err := mmap.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", model.ErrBadModel, err)
	}
	ts, err := parseFile(f.Bytes())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return f, ts, nil
}

// parseFile reads the header of a safetensors file held in b and checks
// every tensor's extent against the data that follows it, which the tensors
// must cover to its last byte.
func parseFile(b []byte) (map[string]tensor, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes is shorter than the header length", model.ErrBadModel, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeaderBytes || n > uint64(len(b)-8) {
		return nil, fmt.Errorf("%w: header length %d past the end of a %d-byte file", model.ErrBadModel, n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("%w: header: %w", model.ErrBadModel, err)
	}
	data := b[8+n:]
	ts := make(map[string]tensor, len(raw))
	var used int64
	for key, msg := range raw {
		if key == "__metadata__" {
			continue
		}
		var info tensorInfo
		if err := json.Unmarshal(msg, &info); err != nil {
			return nil, fmt.Errorf("%w: tensor %s: %w", model.ErrBadModel, key, err)
		}
		t, err := locate(key, info, data)
		if err != nil {
			return nil, err
		}
		used = max(used, info.Offsets[1])
		ts[key] = t
	}
	if used != int64(len(data)) {
		return nil, fmt.Errorf("%w: tensors end at byte %d of a %d-byte data section", model.ErrBadModel, used, len(data))
	}
	return ts, nil
}

// locate checks a header entry against the data section and slices it.
func locate(name string, info tensorInfo, data []byte) (tensor, error) {
	if len(info.Offsets) != 2 {
		return tensor{}, fmt.Errorf("%w: tensor %s: data_offsets %v", model.ErrBadModel, name, info.Offsets)
	}
	begin, end := info.Offsets[0], info.Offsets[1]
	if begin < 0 || end < begin || end > int64(len(data)) {
		return tensor{}, fmt.Errorf("%w: tensor %s: data_offsets [%d, %d] outside the %d-byte data section",
			model.ErrBadModel, name, begin, end, len(data))
	}
	elems := int64(1)
	shape := make([]int, len(info.Shape))
	for i, d := range info.Shape {
		if d < 0 || (d > 0 && elems > maxElems/d) {
			return tensor{}, fmt.Errorf("%w: tensor %s: shape %v", model.ErrBadModel, name, info.Shape)
		}
		elems *= d
		shape[i] = int(d)
	}
	if size := elemBytes(info.DType); size > 0 && elems*int64(size) != end-begin {
		return tensor{}, fmt.Errorf("%w: tensor %s: %s %v needs %d bytes, data_offsets give %d",
			model.ErrBadModel, name, info.DType, info.Shape, elems*int64(size), end-begin)
	}
	return tensor{dtype: info.DType, shape: shape, data: data[begin:end:end]}, nil
}
