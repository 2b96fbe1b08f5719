package safetensors

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestAligned(t *testing.T) {
	words := make([]uint64, 4) // 8-byte aligned backing store
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 32)
	for i := range buf {
		buf[i] = byte(i + 1)
	}
	tests := []struct {
		off, n, elem int
		inPlace      bool
	}{
		{0, 16, 4, true},
		{4, 16, 4, true},
		{2, 16, 2, true},
		{2, 16, 4, false},
		{1, 16, 2, false},
		{3, 17, 4, false},
		{5, 0, 4, true},
	}
	for _, tt := range tests {
		in := buf[tt.off : tt.off+tt.n]
		got := aligned(in, tt.elem)
		if !bytes.Equal(got, in) {
			t.Errorf("off %d elem %d: contents changed", tt.off, tt.elem)
		}
		if tt.n == 0 {
			continue
		}
		if p := uintptr(unsafe.Pointer(&got[0])); p%uintptr(tt.elem) != 0 {
			t.Errorf("off %d elem %d: result at %#x is misaligned", tt.off, tt.elem, p)
		}
		if same := &got[0] == &in[0]; same != tt.inPlace {
			t.Errorf("off %d elem %d: in place %v, want %v", tt.off, tt.elem, same, tt.inPlace)
		}
	}
}
