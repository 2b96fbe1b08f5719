package grammar

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"sieve/engine"
	"sieve/internal/testmodels"
	"sieve/kernels"
	"sieve/model"
	"sieve/model/llama2c"
	"sieve/model/load"
	"sieve/model/synth"
	"sieve/tokenizer"
)

// e2eSchemas are ten schemas whose every value is short, so that random
// sampling ends well within max_tokens: nested objects, arrays, enums,
// $ref, anyOf, patterns and formats.
var e2eSchemas = []string{
	`{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false}`,
	`{"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":99999},"address":{"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":10},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["city","zip"]}},"required":["id","address"]}},"required":["user"]}`,
	`{"type":"object","properties":{"colors":{"type":"array","items":{"enum":["red","green","blue","cyan"]},"minItems":1,"maxItems":4}},"required":["colors"]}`,
	`{"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer","minimum":-9,"maximum":9},"child":{"$ref":"#/$defs/node"}},"required":["value"]}},"$ref":"#/$defs/node"}`,
	`{"type":"object","properties":{"value":{"anyOf":[{"type":"integer","minimum":0,"maximum":1000},{"type":"string","maxLength":5},{"type":"null"}]}},"required":["value"]}`,
	`{"type":"object","properties":{"kind":{"const":"point"},"x":{"type":"number","minimum":0,"maximum":100},"y":{"type":"number","exclusiveMaximum":5},"visible":{"type":"boolean"}},"required":["kind","x","y","visible"]}`,
	`{"type":"array","items":{"type":"object","properties":{"k":{"type":"string","maxLength":4},"v":{"type":"integer","minimum":0,"maximum":9}},"required":["k","v"]},"maxItems":3}`,
	`{"type":"object","properties":{"a":{"type":"string","maxLength":3},"b":{"type":"integer","minimum":0,"maximum":9},"c":{"type":"boolean"}},"additionalProperties":false}`,
	`{"type":"object","properties":{"when":{"type":"string","format":"date"},"status":{"enum":["open","closed",null,7]}},"required":["when","status"]}`,
	`{"$defs":{"tag":{"type":"string","pattern":"^#[a-z]{1,6}$"}},"type":"object","properties":{"tags":{"type":"array","items":{"$ref":"#/$defs/tag"},"maxItems":2},"score":{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":11}},"required":["tags","score"]}`,
}

// validators compiles the schemas with an independent JSON Schema library.
func validators(t *testing.T) []*jsonschema.Schema {
	t.Helper()
	var out []*jsonschema.Schema
	for i, s := range e2eSchemas {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		url := fmt.Sprintf("mem:///schema%d.json", i)
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sch)
	}
	return out
}

// samplers are the sampling settings the requests cycle through, all at
// temperature 1 or above.
var samplers = []engine.SamplingParams{
	{Temperature: 1},
	{Temperature: 1, TopP: 0.9},
	{Temperature: 1.3, TopK: 20, RepetitionPenalty: 1.2},
	{Temperature: 1, MinP: 0.05, PresencePenalty: 0.5, FrequencyPenalty: 0.5},
}

// kvPolicies are the KV policies the requests cycle through ("": the
// engine's dense default), at a budget of 64 tokens.
var kvPolicies = []string{"", "h2o", "window", "snapkv", "layered"}

// runStructured sends ten requests per schema (seeds 0..9, cycling through
// samplers and KV policies) through an engine and checks that every output
// parses and validates.
func runStructured(t *testing.T, m *model.Model, tok tokenizer.Tokenizer, prompt []int32, maxTokens int) {
	eng, err := engine.New(m, tok, engine.Config{Threads: 2, MaxSeqs: 8, KVCacheMiB: 64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	vs := validators(t)
	vocab := NewVocabulary(tok)
	type outcome struct {
		schema int
		seed   uint64
		text   string
		finish engine.FinishReason
	}
	results := make(chan outcome, 100)
	var wg sync.WaitGroup
	for si, s := range e2eSchemas {
		g, err := CompileSchema([]byte(s), DefaultLimits())
		if err != nil {
			t.Fatalf("schema %d: %v", si, err)
		}
		c := Bind(g, vocab)
		for seed := range uint64(10) {
			r := engine.Request{Prompt: prompt, MaxTokens: maxTokens, Params: samplers[seed%uint64(len(samplers))], Constraint: c.NewMatcher()}
			r.Params.Seed = seed + 100*uint64(si)
			if p := kvPolicies[seed%uint64(len(kvPolicies))]; p != "" {
				r.KVPolicy, r.KVBudget = p, 64
			}
			ch, err := eng.Submit(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var text strings.Builder
				var fin engine.FinishReason
				for ev := range ch {
					text.WriteString(ev.Text)
					fin = ev.Finish
				}
				results <- outcome{si, seed, text.String(), fin}
			}()
		}
	}
	wg.Wait()
	close(results)
	n := 0
	for o := range results {
		n++
		if o.finish != engine.FinishStop {
			t.Errorf("schema %d seed %d: finish %q after %q", o.schema, o.seed, o.finish, o.text)
			continue
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(o.text))
		if err != nil {
			t.Errorf("schema %d seed %d: %q does not parse: %v", o.schema, o.seed, o.text, err)
			continue
		}
		if err := vs[o.schema].Validate(inst); err != nil {
			t.Errorf("schema %d seed %d: %q does not validate: %v", o.schema, o.seed, o.text, err)
		}
		if !json.Valid([]byte(o.text)) {
			t.Errorf("schema %d seed %d: %q is not valid JSON", o.schema, o.seed, o.text)
		}
	}
	if n != 100 {
		t.Errorf("%d results, want 100", n)
	}
}

func TestStructuredStories(t *testing.T) {
	m, err := llama2c.Load(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.Load(testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	prompt := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: true})
	runStructured(t, m, tok, prompt, 400)
}

// TestStructuredRandomModels runs the schemas on random-weight models with
// the Llama 2 vocabulary (SentencePiece) and the Llama 3 one (byte-level
// BPE, whose tokens may end inside a UTF-8 character): the tiny shape by
// default, another one (small) with SIEVE_STRUCTURED_SHAPE.
func TestStructuredRandomModels(t *testing.T) {
	name := "tiny"
	if s := os.Getenv("SIEVE_STRUCTURED_SHAPE"); s != "" {
		name = s
	}
	shape, ok := synth.LookupShape(name)
	if !ok {
		t.Fatalf("no shape %q", name)
	}
	typ := kernels.F16
	if name != "tiny" {
		typ = kernels.Q8_0
	}
	for _, file := range []string{"tokenizer.model", "llama3-tokenizer.model"} {
		t.Run(file, func(t *testing.T) {
			vocab, err := synth.ReadVocab(testmodels.Path(t, file))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "random.gguf")
			if err := synth.Write(path, shape, typ, 1, vocab); err != nil {
				t.Fatal(err)
			}
			m, err := load.Open(path, "")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			prompt := m.Tokenizer.Encode("Answer in JSON:", tokenizer.EncodeOptions{AddBOS: true})
			runStructured(t, m, m.Tokenizer, prompt, 400)
		})
	}
}
