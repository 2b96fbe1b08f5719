package safetensors

import (
	"encoding/binary"
	"testing"
)

// stFile builds a safetensors file from a header and data.
func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestParseFile(t *testing.T) {
	data := make([]byte, 16)
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"f32 and bf16", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]}}`, true},
		{"metadata", `{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[8],"data_offsets":[0,16]}}`, true},
		{"unknown dtype sized by offsets", `{"a":{"dtype":"I8","shape":[16],"data_offsets":[0,16]}}`, true},
		{"scalar", `{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}`, true},
		{"gap at the end", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, false},
		{"overflowing shape", `{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}}`, false},
		{"shape not a list", `{"a":{"dtype":"F32","shape":4,"data_offsets":[0,16]}}`, false},
		{"entry not an object", `{"a":[1,2]}`, false},
		{"three offsets", `{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16,16]}}`, false},
		{"not an object", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := parseFile(stFile(tt.header, data))
			if (err == nil) != tt.ok {
				t.Fatalf("parseFile: %v, want ok %v", err, tt.ok)
			}
			for name, x := range ts {
				if cap(x.data) != len(x.data) {
					t.Errorf("%s: slice can grow into its neighbour", name)
				}
			}
		})
	}
}

// FuzzParseFile checks that no input makes the header parser panic.
func FuzzParseFile(f *testing.F) {
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(stFile(`{"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, '{'})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := parseFile(b)
		if err != nil {
			return
		}
		for _, x := range ts {
			if size := elemBytes(x.dtype); size > 0 {
				n := size
				for _, d := range x.shape {
					n *= d
				}
				if n != len(x.data) {
					t.Errorf("%v %v: %d bytes", x.dtype, x.shape, len(x.data))
				}
			}
		}
	})
}
