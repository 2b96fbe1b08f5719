package gguf_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// rawTensor is a tensor info as it is written into a hand-built file.
type rawTensor struct {
	name   string
	ne     []uint64
	typ    uint32
	offset uint64
}

// rawFile builds GGUF bytes field by field, independently of gguf.Writer, so
// that tests can produce both valid and malformed files.
type rawFile struct {
	magic     string
	version   uint32
	nTensors  *uint64 // nil: len(tensors)
	nKV       *uint64 // nil: the number of kv calls
	kv        bytes.Buffer
	kvCount   uint64
	tensors   []rawTensor
	alignment uint64
	dataLen   int // bytes of data after the aligned header
}

// newRaw returns a valid file header: GGUF v3, alignment 32, no metadata.
func newRaw() *rawFile { return &rawFile{magic: "GGUF", version: 3, alignment: 32} }

func u32b(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64b(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func strb(s string) []byte { return append(u64b(uint64(len(s))), s...) }
func ptr(v uint64) *uint64 { return &v }

// addKV appends a key, a value type id and the raw value bytes.
func (r *rawFile) addKV(key string, typ uint32, val []byte) *rawFile {
	r.kv.Write(strb(key))
	r.kv.Write(u32b(typ))
	r.kv.Write(val)
	r.kvCount++
	return r
}

// bytes assembles the file.
func (r *rawFile) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(r.magic)
	b.Write(u32b(r.version))
	nt, nkv := uint64(len(r.tensors)), r.kvCount
	if r.nTensors != nil {
		nt = *r.nTensors
	}
	if r.nKV != nil {
		nkv = *r.nKV
	}
	b.Write(u64b(nt))
	b.Write(u64b(nkv))
	b.Write(r.kv.Bytes())
	for _, t := range r.tensors {
		b.Write(strb(t.name))
		b.Write(u32b(uint32(len(t.ne))))
		for _, n := range t.ne {
			b.Write(u64b(n))
		}
		b.Write(u32b(t.typ))
		b.Write(u64b(t.offset))
	}
	for uint64(b.Len())%r.alignment != 0 {
		b.WriteByte(0)
	}
	for i := 0; i < r.dataLen; i++ {
		b.WriteByte(byte(i))
	}
	return b.Bytes()
}

// writeTemp writes data to a new file in a test temporary directory.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
