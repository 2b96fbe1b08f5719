// Package demo embeds a tiny trained Llama, stories260K, so that Sieve runs
// with no model file and no network; see README.md here for its source,
// licence and checksum.
package demo

import (
	_ "embed"
	"unsafe"

	"sieve/model"
	"sieve/model/load"
)

// Name is the demo model's name, as it is served and listed.
const Name = "stories260K"

// SHA256 is the hex sha256 of the embedded GGUF file.
const SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"

//go:embed stories260K.gguf
var embedded string

// GGUF returns a fresh copy of the embedded GGUF file, aligned to 64 bytes
// as a memory map would be (the weights are read in place from it).
func GGUF() []byte {
	words := make([]uint64, (len(embedded)+63)/8+8)
	p := unsafe.Pointer(unsafe.SliceData(words))
	skip := (64 - uintptr(p)%64) % 64
	buf := unsafe.Slice((*byte)(unsafe.Add(p, skip)), len(embedded))
	copy(buf, embedded)
	return buf
}

// Open loads the demo model from memory. tokenizerPath, when not empty,
// names a tokenizer file that overrides its own, as for load.Open.
func Open(tokenizerPath string) (*model.Model, error) {
	return load.GGUFBytes(Name, GGUF(), tokenizerPath)
}
