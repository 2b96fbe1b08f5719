package grammar

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"sieve/internal/testmodels"
	"sieve/tokenizer"
)

// loadTokenizer loads a tokenizer of the shared test models.
func loadTokenizer(t testing.TB, name string) tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(testmodels.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// maskSchemas are the schemas the mask tests walk.
var maskSchemas = []string{
	`{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer","minimum":0,"maximum":150},"tags":{"type":"array","items":{"enum":["a","bb","ccc"]},"maxItems":3}},"required":["name","age"]}`,
	`{"$defs":{"n":{"type":"object","properties":{"v":{"type":"boolean"},"kids":{"type":"array","items":{"$ref":"#/$defs/n"},"maxItems":2}},"required":["v"]}},"$ref":"#/$defs/n"}`,
	`{"type":"string","pattern":"^[A-Z][a-z]{2,5}( [0-9]+)?$"}`,
	`{"anyOf":[{"type":"number"},{"type":"null"},{"const":"é"}]}`,
}

// TestMaskMatchesBruteForce walks random tokens through schemas on real
// vocabularies and checks at every step that the mask allows exactly the
// tokens whose bytes keep the text a valid prefix (checked byte by byte,
// without the trie), and that it allows at least one.
func TestMaskMatchesBruteForce(t *testing.T) {
	for _, name := range []string{"tok512.bin", "tokenizer.model", "llama3-tokenizer.model"} {
		t.Run(name, func(t *testing.T) {
			tok := loadTokenizer(t, name)
			v := NewVocabulary(tok)
			steps := 40
			if tok.VocabSize() > 100_000 {
				steps = 12
			}
			for si, schema := range maskSchemas {
				g, err := CompileSchema([]byte(schema), DefaultLimits())
				if err != nil {
					t.Fatal(err)
				}
				c := Bind(g, v)
				m := c.NewMatcher()
				rng := rand.New(rand.NewPCG(uint64(si), 1))
				prev := int32(5) // a token that is not BOS: mid-text pieces
				text := ""
				logits := make([]float32, tok.VocabSize()+3)
				for step := range steps {
					for i := range logits {
						logits[i] = 0
					}
					if !m.Mask(prev, logits) {
						t.Fatalf("schema %d step %d after %q: no token allowed", si, step, text)
					}
					var allowed []int32
					for id := range int32(tok.VocabSize()) {
						p := tok.Piece(prev, id)
						want := len(p) > 0 && !slices.Contains(tok.StopTokens(), id) && feasible(g, m.st, p)
						if slices.Contains(tok.StopTokens(), id) {
							want = m.Complete()
						}
						got := !math.IsInf(float64(logits[id]), -1)
						if got != want {
							t.Fatalf("schema %d step %d after %q: token %d %q allowed %v, want %v", si, step, text, id, p, got, want)
						}
						if got {
							allowed = append(allowed, id)
						}
					}
					for i := tok.VocabSize(); i < len(logits); i++ {
						if !math.IsInf(float64(logits[i]), -1) {
							t.Fatalf("id %d beyond the vocabulary allowed", i)
						}
					}
					id := allowed[rng.IntN(len(allowed))]
					if slices.Contains(tok.StopTokens(), id) {
						break
					}
					done, err := m.Accept(prev, id)
					if err != nil {
						t.Fatalf("accept %d: %v", id, err)
					}
					text += string(tok.Piece(prev, id))
					prev = id
					if done {
						break
					}
				}
				if _, prefix := matches(g, text); !prefix {
					t.Fatalf("schema %d: %q is not a valid prefix", si, text)
				}
			}
		})
	}
}

// feasible reports whether the bytes p may follow st, byte by byte.
func feasible(g *Grammar, st state, p []byte) bool {
	for _, b := range p {
		if st = g.advance(&st, b); st.dead() {
			return false
		}
	}
	return true
}

// TestMaskAtStart checks the first token after BOS, where SentencePiece
// drops the leading space of a piece: "▁{" then reads "{".
func TestMaskAtStart(t *testing.T) {
	tok := loadTokenizer(t, "tokenizer.model")
	g, err := CompileChoice([]string{"{}"}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	c := Bind(g, NewVocabulary(tok))
	brace, ok := tok.TokenID("▁{")
	if !ok {
		t.Skip("no ▁{ token")
	}
	logits := make([]float32, tok.VocabSize())
	c.NewMatcher().Mask(tok.BOS(), logits)
	if math.IsInf(float64(logits[brace]), -1) {
		t.Errorf("after BOS, ▁{ (read as {) is masked")
	}
	c.NewMatcher().Mask(brace, logits)
	if !math.IsInf(float64(logits[brace]), -1) {
		t.Errorf("mid-text, ▁{ (read as \" {\") is allowed")
	}
}
