// Package model describes a Llama-family model: its hyperparameters (Config)
// and its weights, independent of the file format they were loaded from.
package model

import (
	"io"

	"sieve/kernels"
	"sieve/tokenizer"
)

// RopeStyle says which dimensions RoPE rotates together.
type RopeStyle uint8

const (
	// RopeAdjacent rotates pairs (2i, 2i+1): GGUF and llama2.c checkpoints.
	RopeAdjacent RopeStyle = iota
	// RopeHalf rotates pairs (i, i+d/2): Hugging Face checkpoints.
	RopeHalf
)

// RopeScaling is Llama 3.1-style frequency scaling ("rope_type": "llama3").
// A zero Factor means no scaling.
type RopeScaling struct {
	Factor          float32
	LowFreqFactor   float32
	HighFreqFactor  float32
	OriginalContext int
}

// Config holds the hyperparameters of a Llama-architecture model.
type Config struct {
	Dim        int // width of the residual stream
	HiddenDim  int // width of the SwiGLU feed-forward layer
	Layers     int
	Heads      int // query heads
	KVHeads    int // key/value heads (GQA when fewer than Heads)
	HeadDim    int // Dim / Heads unless the file says otherwise
	VocabSize  int
	ContextLen int // maximum sequence length the model was trained for
	NormEps    float32
	RopeTheta  float32
	RopeDim    int // rotated dimensions per head; HeadDim unless the file says otherwise
	RopeStyle  RopeStyle
	RopeScale  RopeScaling
}

// KVDim is the width of one token's keys (or values) in one layer.
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim }

// Layer holds the weights of one transformer block. Matrices are stored
// [out, in] (each row is one output), as GGUF and PyTorch store them.
type Layer struct {
	AttnNorm []float32
	Wq       kernels.Mat // [Heads*HeadDim, Dim]
	Wk       kernels.Mat // [KVHeads*HeadDim, Dim]
	Wv       kernels.Mat // [KVHeads*HeadDim, Dim]
	Wo       kernels.Mat // [Dim, Heads*HeadDim]
	FFNNorm  []float32
	W1       kernels.Mat // gate, [HiddenDim, Dim]
	W2       kernels.Mat // down, [Dim, HiddenDim]
	W3       kernels.Mat // up, [HiddenDim, Dim]
}

// Weights holds every tensor of the model.
type Weights struct {
	TokenEmbd  kernels.Mat // [VocabSize, Dim]
	Layers     []Layer
	OutputNorm []float32
	Output     kernels.Mat // [VocabSize, Dim]; equals TokenEmbd when tied
}

// Model is a loaded model: configuration, weights and, when the file carries
// one, its tokenizer. Close releases the memory-mapped files behind Weights.
type Model struct {
	Name      string // short name, e.g. the file's base name without extension
	Format    string // "gguf", "llama2c" or "safetensors"
	Config    Config
	Weights   Weights
	Tokenizer tokenizer.Tokenizer // nil when the file has none
	// ChatTemplate is the Jinja chat template the file carries, if any.
	ChatTemplate string
	StopTokens   []int32 // end-of-sequence ids the model files declare beyond the tokenizer's
	Closer       io.Closer
}

// Close releases the model's files.
func (m *Model) Close() error {
	if m.Closer == nil {
		return nil
	}
	return m.Closer.Close()
}
