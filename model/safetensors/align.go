package safetensors

import "unsafe"

// aligned returns b if its start is aligned for elements of elemSize bytes,
// and otherwise a copy of b in a fresh 8-byte-aligned buffer. The kernels
// read weight bytes as float32 or uint16 values in place, which needs that
// alignment; the safetensors format does not promise it (the header length
// decides where the data starts), so such a tensor costs a heap copy.
func aligned(b []byte, elemSize int) []byte {
	if len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%uintptr(elemSize) == 0 {
		return b
	}
	words := make([]uint64, (len(b)+7)/8)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(b))
	copy(buf, b)
	return buf
}
