package grammar

import (
	"testing"
)

// benchSchema is a representative schema: an object with a string, an
// integer, an enum and an array of objects.
const benchSchema = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"role":{"enum":["admin","user","guest"]},"items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"label":{"type":"string","maxLength":20}},"required":["id","label"]}}},"required":["name","age","role","items"]}`

// BenchmarkMask measures the mask of one decoding step on the Llama 2
// vocabulary (32,000 tokens) in representative states: computed (the trie
// walk from a cold transition table), walked (the trie walk through known
// transitions, as for a state met first in a later request) and cached (the
// state's mask kept: the steady state).
func BenchmarkMask(b *testing.B) {
	tok := loadTokenizer(b, "tokenizer.model")
	v := NewVocabulary(tok)
	g, err := CompileSchema([]byte(benchSchema), DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	states := []struct{ name, prefix string }{
		{"start", ``},
		{"key", `{"name":"Al", "age":3`},
		{"in-string", `{"name":"Alice and`},
		{"in-short-string", `{"name":"A","age":1,"role":"user","items":[{"id":1,"label":"ab`},
		{"number", `{"name":"A","age":12`},
		{"enum", `{"name":"A","age":1,"role":"`},
	}
	logits := make([]float32, tok.VocabSize())
	for _, s := range states {
		c := Bind(g, v)
		m := c.NewMatcher()
		if !m.AcceptString(s.prefix) {
			b.Fatalf("%q rejected", s.prefix)
		}
		b.Run(s.name+"/computed", func(b *testing.B) {
			for b.Loop() {
				c.mu.Lock()
				c.d.reset()
				c.mu.Unlock()
				m.Mask(5, logits)
			}
		})
		b.Run(s.name+"/walked", func(b *testing.B) {
			m.Mask(5, logits)
			for b.Loop() {
				c.mu.Lock()
				for _, d := range c.d.states {
					d.mask = nil
				}
				c.mu.Unlock()
				m.Mask(5, logits)
			}
		})
		b.Run(s.name+"/cached", func(b *testing.B) {
			m.Mask(5, logits)
			for b.Loop() {
				m.Mask(5, logits)
			}
		})
	}
}
