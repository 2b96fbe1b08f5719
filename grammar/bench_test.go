package grammar

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopCPU runs f in b's loop and reports its CPU time per iteration, a
// steadier measure than wall time on a shared machine.
func loopCPU(b *testing.B, f func()) {
	start, n := cpuTime(), 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

// benchSchema is a representative schema: an object with a string, an
// integer, an enum and an array of objects.
const benchSchema = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"role":{"enum":["admin","user","guest"]},"items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"label":{"type":"string","maxLength":20}},"required":["id","label"]}}},"required":["name","age","role","items"]}`

// BenchmarkMask measures the mask of one decoding step on the Llama 2
// vocabulary (32,000 tokens) and the Llama 3 one (128,256) in
// representative states: computed (the trie
// walk from a cold transition table), walked (the trie walk through known
// transitions, as for a state met first in a later request) and cached (the
// state's mask kept: the steady state).
func BenchmarkMask(b *testing.B) {
	b.Run("llama2", func(b *testing.B) { benchmarkMask(b, "tokenizer.model") })
	b.Run("llama3", func(b *testing.B) { benchmarkMask(b, "llama3-tokenizer.model") })
}

// benchmarkMask is BenchmarkMask on one vocabulary.
func benchmarkMask(b *testing.B, file string) {
	tok := loadTokenizer(b, file)
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
			loopCPU(b, func() {
				c.mu.Lock()
				c.d.reset()
				c.mu.Unlock()
				m.Mask(5, logits)
			})
		})
		b.Run(s.name+"/walked", func(b *testing.B) {
			m.Mask(5, logits)
			loopCPU(b, func() {
				c.mu.Lock()
				for _, d := range c.d.states {
					d.mask = nil
				}
				c.mu.Unlock()
				m.Mask(5, logits)
			})
		})
		b.Run(s.name+"/cached", func(b *testing.B) {
			m.Mask(5, logits)
			loopCPU(b, func() { m.Mask(5, logits) })
		})
	}
}
