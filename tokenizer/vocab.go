package tokenizer

// Kind is the tokenization algorithm of a vocabulary.
type Kind uint8

const (
	// SentencePiece is score-driven BPE over "▁"-escaped text with byte fallback (Llama 2).
	SentencePiece Kind = iota
	// ByteBPE is rank-driven byte-level BPE after a regex pre-split (Llama 3, tiktoken).
	ByteBPE
)

// TokenType classifies vocabulary entries; the values match GGUF's
// tokenizer.ggml.token_type and SentencePiece's piece types.
type TokenType int32

// Token types.
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3
	TypeUserDefined TokenType = 4
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6
)

// MaxVocabSize bounds the number of tokens of any vocabulary (the largest
// released ones have about 256000), so that no id read from a file can size
// a huge table.
const MaxVocabSize = 1 << 24

// Vocab is the format-independent description of a vocabulary, from which
// New builds a Tokenizer. Every tokenizer file format is read into a Vocab.
type Vocab struct {
	Kind Kind
	// Tokens holds each token's text. For SentencePiece, pieces use "▁" for
	// spaces and "<0xAB>" for byte tokens. For ByteBPE, pieces use the GPT-2
	// byte-to-unicode mapping, as GGUF and tokenizer.json store them.
	Tokens []string
	Scores []float32   // SentencePiece merge scores (nil for ByteBPE)
	Types  []TokenType // nil means all normal
	Merges []string    // ByteBPE merges "left right", by rank (nil: rank = token id order)
	// Pre names the ByteBPE pre-tokenizer: "llama3" (also "llama-bpe" and
	// "", the default) or "gpt2" (also "default", as llama.cpp names it).
	Pre string
	// Special ids, -1 when absent.
	BOS, EOS, UNK, PAD int32
	// EOT lists extra ids that end generation (end-of-turn, eom, ...).
	EOT    []int32
	AddBOS bool // the model expects BOS at the start of a prompt
	AddEOS bool
	// AddSpacePrefix: SentencePiece prepends "▁" to the text (Llama 2 does).
	AddSpacePrefix bool
}
