package grammar

import (
	"errors"
	"testing"
)

// FuzzCompileSchema compiles arbitrary schemas: the compiler must return
// a grammar or one of its errors, within its limits, and a grammar must
// start and advance.
func FuzzCompileSchema(f *testing.F) {
	for _, s := range append(append([]string{}, e2eSchemas...), maskSchemas...) {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{}`, `true`, `false`, `{"type":"string","pattern":"(a|b)*c{2,5}"}`,
		`{"$ref":"#"}`, `{"anyOf":[{"$ref":"#"},{"type":"null"}]}`, `{"type":"array","items":{"type":"array","items":{"type":"string","maxLength":1000},"maxItems":100},"maxItems":100}`} {
		f.Add([]byte(s))
	}
	lim := DefaultLimits()
	f.Fuzz(func(t *testing.T, schema []byte) {
		g, err := CompileSchema(schema, lim)
		if err != nil {
			for _, want := range []error{ErrUnsupported, ErrInvalid, ErrUnsatisfiable, ErrTooLarge} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error %v wraps none of the grammar's errors", err)
		}
		if g.Size() > lim.MaxElements+len(g.rules)+1 {
			t.Fatalf("%d elements, over the limit of %d", g.Size(), lim.MaxElements)
		}
		st := g.start()
		for _, c := range []byte(`{"a":[1,"x",null]} `) {
			if st = g.advance(&st, c); st.dead() {
				break
			}
		}
	})
}

// FuzzCompileRegex compiles arbitrary patterns, as the server does for
// structured_outputs.regex: a grammar or one of the grammar's errors.
func FuzzCompileRegex(f *testing.F) {
	for _, s := range []string{`[a-z]+@[a-z]+\.com`, `(yes|no)[0-9]{1,3}`, `\p{L}{2,}`, `(a*)*b`, `^x$`, `a\bb`, `((a?){100}){100}`, `.{0,1000}`} {
		f.Add(s)
	}
	lim := DefaultLimits()
	f.Fuzz(func(t *testing.T, pattern string) {
		g, err := CompileRegex(pattern, lim)
		if err != nil {
			for _, want := range []error{ErrUnsupported, ErrInvalid, ErrUnsatisfiable, ErrTooLarge} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error %v wraps none of the grammar's errors", err)
		}
		st := g.start()
		for _, c := range []byte("ab12@x.com") {
			if st = g.advance(&st, c); st.dead() {
				break
			}
		}
	})
}
