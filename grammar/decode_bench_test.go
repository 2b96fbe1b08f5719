package grammar

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/model"
	"sieve/model/load"
	"sieve/model/synth"
	"sieve/tokenizer"
)

// decodeSchema keeps a model generating for the whole benchmark: an array
// of at least 200 objects with a short string, an integer and an enum.
const decodeSchema = `{"type":"array","items":{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120},"role":{"enum":["admin","user","guest"]}},"required":["name","age","role"]},"minItems":200}`

// benchModel opens $SIEVE_BENCH_MODEL, or writes a tiny random model with
// the Llama 2 vocabulary.
func benchModel(b *testing.B) *model.Model {
	path := os.Getenv("SIEVE_BENCH_MODEL")
	if path == "" {
		vocab, err := synth.ReadVocab(testmodels.Path(b, "tokenizer.model"))
		if err != nil {
			b.Fatal(err)
		}
		shape, _ := synth.LookupShape("tiny")
		path = filepath.Join(b.TempDir(), "tiny.gguf")
		if err := synth.Write(path, shape, kernels.F16, 1, vocab); err != nil {
			b.Fatal(err)
		}
	}
	m, err := load.Open(path, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkConstrainedDecode compares decode speed with and without a
// JSON schema constraint on one sequence, 64 tokens, greedy (with
// SIEVE_BENCH_SAMPLE set, temperature 1: the sampler then sorts the whole
// vocabulary every step, and sorts a masked row faster):
// constrained-warm reuses one compiled grammar across iterations, as the
// server's cache does across requests; constrained-cold compiles and binds
// a fresh one every iteration, so every state's mask is computed. It
// reports each mode's decode tok/s (first token to last, medians), and the
// medians of the per-round ratios to unconstrained decoding.
func BenchmarkConstrainedDecode(b *testing.B) {
	m := benchModel(b)
	eng, err := engine.New(m, m.Tokenizer, engine.Config{Threads: 2, MaxSeqs: 1, KVCacheMiB: 256}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close(context.Background()) })
	vocab := NewVocabulary(m.Tokenizer)
	g, err := CompileSchema([]byte(decodeSchema), DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	warm := Bind(g, vocab)
	prompt := m.Tokenizer.Encode("Return the list of users as JSON.", tokenizer.EncodeOptions{AddBOS: true})
	const gen = 64
	temperature := float32(0)
	if os.Getenv("SIEVE_BENCH_SAMPLE") != "" {
		temperature = 1
	}
	modes := []string{"unconstrained", "constrained-warm", "constrained-cold"}
	// decode runs one request in mode and returns its decode tok/s.
	decode := func(mode string, seed uint64) float64 {
		r := engine.Request{Prompt: prompt, MaxTokens: gen, IgnoreEOS: true, Params: engine.SamplingParams{Temperature: temperature, Seed: seed}}
		switch mode {
		case "constrained-warm":
			r.Constraint = warm.NewMatcher()
		case "constrained-cold":
			cg, err := CompileSchema([]byte(decodeSchema), DefaultLimits())
			if err != nil {
				b.Fatal(err)
			}
			r.Constraint = Bind(cg, vocab).NewMatcher()
		}
		ch, err := eng.Submit(context.Background(), r)
		if err != nil {
			b.Fatal(err)
		}
		var first time.Time
		n := 0
		for ev := range ch {
			if len(ev.Tokens) > 0 && first.IsZero() {
				first = time.Now()
				n -= len(ev.Tokens)
			}
			n += len(ev.Tokens)
			if ev.Finish != "" && ev.Finish != engine.FinishLength {
				b.Fatalf("%s: finish %q", mode, ev.Finish)
			}
		}
		return float64(n) / time.Since(first).Seconds()
	}
	// The modes run in turn, so that a noisy machine drifts over all
	// three alike; ratios are the medians of each round's own ratio.
	rates := make([][]float64, len(modes))
	var ratios [2][]float64
	for i := 0; b.Loop(); i++ {
		var round [3]float64
		for j, mode := range modes {
			round[j] = decode(mode, uint64(i))
			rates[j] = append(rates[j], round[j])
		}
		ratios[0] = append(ratios[0], round[1]/round[0])
		ratios[1] = append(ratios[1], round[2]/round[0])
	}
	for j, mode := range modes {
		b.ReportMetric(median(rates[j]), mode+"-tok/s")
	}
	b.ReportMetric(median(ratios[0]), "warm/unconstrained")
	b.ReportMetric(median(ratios[1]), "cold/unconstrained")
}

// median returns the median of xs.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
