package grammar

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// SchemaError is a schema the compiler refuses: Path is the JSON pointer of
// the schema object within the document, Keyword the keyword at fault
// (may be empty). It wraps ErrUnsupported, ErrInvalid, ErrUnsatisfiable
// or ErrTooLarge.
type SchemaError struct {
	Path    string
	Keyword string
	Err     error
}

// Error implements error.
func (e *SchemaError) Error() string {
	path := e.Path
	if path == "" {
		path = "/"
	}
	if e.Keyword == "" {
		return fmt.Sprintf("schema at %s: %v", path, e.Err)
	}
	return fmt.Sprintf("schema at %s: keyword %q: %v", path, e.Keyword, e.Err)
}

// Unwrap returns the underlying error.
func (e *SchemaError) Unwrap() error { return e.Err }

// annotations are keywords that do not constrain a value.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "title": true, "description": true, "default": true,
	"examples": true, "deprecated": true, "readOnly": true, "writeOnly": true, "$defs": true,
	"definitions": true, "contentMediaType": true, "contentEncoding": true, "strict": true,
}

// constraining are the keywords the compiler understands.
var constraining = map[string]bool{
	"type": true, "enum": true, "const": true, "anyOf": true, "oneOf": true, "allOf": true, "$ref": true,
	"properties": true, "required": true, "additionalProperties": true, "unevaluatedProperties": true,
	"minProperties": true, "maxProperties": true,
	"items": true, "prefixItems": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minLength": true, "maxLength": true, "pattern": true, "format": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
}

// CompileSchema compiles a JSON Schema into the grammar of the JSON texts
// holding one value valid against it. See docs/structured-outputs.md for
// the supported subset; anything else is a *SchemaError naming the keyword
// and where it is.
func CompileSchema(schema []byte, lim Limits) (*Grammar, error) {
	root, err := parseJSON(schema, lim.MaxSchemaDepth)
	if err != nil {
		return nil, &SchemaError{Err: err}
	}
	b := newBuilder(lim)
	c := &schemaCompiler{b: b, j: newJSONRules(b), root: root, refs: map[refKey]int32{}, active: map[*jvalue]int{}}
	e, err := c.schema(root, "")
	if err != nil {
		return nil, err
	}
	g, err := b.finish(b.rule(seq(c.j.ws(), e)))
	if err != nil {
		return nil, &SchemaError{Err: err}
	}
	return g, nil
}

// schemaCompiler holds the state of one schema compilation.
type schemaCompiler struct {
	b    *builder
	j    *jsonRules
	root *jvalue
	// refs holds the rule of each $ref target at each depth of recursion;
	// active counts the expansions of a target in progress. Recursion is
	// unrolled to Limits.MaxRefDepth, so that every output is finite.
	refs   map[refKey]int32
	active map[*jvalue]int
}

// errAt returns a SchemaError at path.
func errAt(path, keyword string, sentinel error, format string, args ...any) error {
	return &SchemaError{Path: path, Keyword: keyword, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

// schema compiles the schema v found at path.
func (c *schemaCompiler) schema(v *jvalue, path string) (*expr, error) {
	if c.b.err != nil {
		return nil, &SchemaError{Path: path, Err: c.b.err}
	}
	switch v.kind {
	case 'b':
		if v.b {
			return c.j.value(), nil
		}
		return never(), nil
	case 'o':
	default:
		return nil, errAt(path, "", ErrInvalid, "a schema must be an object or a boolean, not %s", v.kindName())
	}
	others := false
	for _, m := range v.obj {
		switch {
		case annotations[m.key]:
		case constraining[m.key]:
			if m.key != "$ref" && m.key != "anyOf" && m.key != "oneOf" && m.key != "allOf" {
				others = true
			}
		default:
			return nil, errAt(path, m.key, ErrUnsupported, "keyword %q is not supported", m.key)
		}
	}
	combinators := 0
	for _, k := range []string{"$ref", "anyOf", "oneOf", "allOf"} {
		if v.get(k) != nil {
			combinators++
		}
	}
	if combinators > 0 && (others || combinators > 1) {
		return nil, errAt(path, "", ErrUnsupported, "$ref, anyOf, oneOf and allOf must stand alone, beside annotations only")
	}
	if !others && combinators == 0 {
		return c.j.value(), nil
	}
	if r := v.get("$ref"); r != nil {
		return c.ref(r, path)
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if list := v.get(k); list != nil {
			return c.anyOf(k, list, path)
		}
	}
	if e := v.get("const"); e != nil {
		return c.enum(&jvalue{kind: 'a', arr: []*jvalue{e}}, v, path)
	}
	if e := v.get("enum"); e != nil {
		return c.enum(e, v, path)
	}
	types, err := schemaTypes(v, path)
	if err != nil {
		return nil, err
	}
	var es []*expr
	for _, t := range types {
		e, err := c.typed(t, v, path)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return alt(es...), nil
}

// schemaTypes lists the types v allows: its "type", or the types its
// keywords imply, or every type.
func schemaTypes(v *jvalue, path string) ([]string, error) {
	t := v.get("type")
	var types []string
	switch {
	case t == nil:
		for _, k := range []struct{ keyword, typ string }{
			{"properties", "object"}, {"required", "object"}, {"additionalProperties", "object"}, {"minProperties", "object"}, {"maxProperties", "object"},
			{"items", "array"}, {"prefixItems", "array"}, {"minItems", "array"}, {"maxItems", "array"},
			{"minLength", "string"}, {"maxLength", "string"}, {"pattern", "string"}, {"format", "string"},
			{"minimum", "number"}, {"maximum", "number"}, {"exclusiveMinimum", "number"}, {"exclusiveMaximum", "number"},
		} {
			if v.get(k.keyword) != nil && !contains(types, k.typ) {
				types = append(types, k.typ)
			}
		}
		if len(types) == 0 {
			types = []string{"object", "array", "string", "number", "boolean", "null"}
		}
	case t.kind == 's':
		types = []string{t.str}
	case t.kind == 'a':
		for _, e := range t.arr {
			if e.kind != 's' {
				return nil, errAt(path, "type", ErrInvalid, "type must be a string or an array of strings")
			}
			types = append(types, e.str)
		}
	default:
		return nil, errAt(path, "type", ErrInvalid, "type must be a string or an array of strings")
	}
	for _, typ := range types {
		switch typ {
		case "object", "array", "string", "number", "integer", "boolean", "null":
		default:
			return nil, errAt(path, "type", ErrInvalid, "unknown type %q", typ)
		}
	}
	return types, nil
}

// hasType reports whether x is of one of the JSON Schema types.
func hasType(x *jvalue, types []string) bool {
	t := x.kindName()
	if contains(types, t) {
		return true
	}
	if t == "number" && contains(types, "integer") {
		f, err := strconv.ParseFloat(x.str, 64)
		return err == nil && f == math.Trunc(f)
	}
	return false
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// typed compiles v for one of its types.
func (c *schemaCompiler) typed(typ string, v *jvalue, path string) (*expr, error) {
	switch typ {
	case "object":
		return c.object(v, path)
	case "array":
		return c.array(v, path)
	case "string":
		return c.str(v, path)
	case "number", "integer":
		return c.number(typ == "integer", v, path)
	case "boolean":
		return words([]string{"true", "false"}), nil
	}
	return lit("null"), nil
}

// enum compiles an enum (or a const, as an enum of one): its values'
// JSON texts, but those of a type that schema v's "type" excludes. Other
// keywords beside it are not checked against the values.
func (c *schemaCompiler) enum(e, v *jvalue, path string) (*expr, error) {
	if e.kind != 'a' {
		return nil, errAt(path, "enum", ErrInvalid, "enum must be an array")
	}
	if v.get("type") != nil {
		types, err := schemaTypes(v, path)
		if err != nil {
			return nil, err
		}
		var kept []*jvalue
		for _, x := range e.arr {
			if hasType(x, types) {
				kept = append(kept, x)
			}
		}
		e = &jvalue{kind: 'a', arr: kept}
	}
	if len(e.arr) > c.b.lim.MaxEnum {
		return nil, errAt(path, "enum", ErrTooLarge, "%d values (at most %d)", len(e.arr), c.b.lim.MaxEnum)
	}
	var ws []string
	total := 0
	for _, x := range e.arr {
		w := string(x.encode(nil))
		total += len(w)
		ws = append(ws, w)
	}
	c.b.count(total)
	if len(ws) == 0 {
		return never(), nil
	}
	return words(ws), nil
}

// anyOf compiles anyOf, oneOf (as anyOf: outputs should match one
// alternative only, which the compiler does not check) and allOf (of one
// schema).
func (c *schemaCompiler) anyOf(keyword string, list *jvalue, path string) (*expr, error) {
	if list.kind != 'a' || len(list.arr) == 0 {
		return nil, errAt(path, keyword, ErrInvalid, "%s must be a non-empty array", keyword)
	}
	if keyword == "allOf" && len(list.arr) > 1 {
		return nil, errAt(path, keyword, ErrUnsupported, "allOf with more than one schema")
	}
	var es []*expr
	for i, s := range list.arr {
		e, err := c.schema(s, fmt.Sprintf("%s/%s/%d", path, keyword, i))
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return alt(es...), nil
}

// ref compiles a $ref to a schema of the same document ("#", "#/$defs/x",
// any JSON pointer); each target becomes one rule per depth of recursion,
// and a target nested in itself MaxRefDepth times generates nothing there.
func (c *schemaCompiler) ref(r *jvalue, path string) (*expr, error) {
	if r.kind != 's' || !strings.HasPrefix(r.str, "#") {
		return nil, errAt(path, "$ref", ErrUnsupported, "only references within the schema (#/...) are supported")
	}
	target, err := c.resolve(r.str)
	if err != nil {
		return nil, errAt(path, "$ref", err, "%q", r.str)
	}
	depth := c.active[target]
	if depth >= c.b.lim.MaxRefDepth {
		return never(), nil // recursion ends here: this branch generates nothing
	}
	key := refKey{target, depth}
	if rule, ok := c.refs[key]; ok {
		return ref(rule), nil
	}
	rule := c.b.newRule()
	c.refs[key] = rule
	c.active[target]++
	e, err := c.schema(target, strings.TrimPrefix(r.str, "#"))
	c.active[target]--
	if err != nil {
		return nil, err
	}
	c.b.define(rule, e)
	return ref(rule), nil
}

// refKey is a $ref target at a depth of recursion.
type refKey struct {
	target *jvalue
	depth  int
}

// resolve follows a "#..." JSON pointer from the root.
func (c *schemaCompiler) resolve(ptr string) (*jvalue, error) {
	p, err := url.PathUnescape(strings.TrimPrefix(ptr, "#"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	v := c.root
	if p == "" {
		return v, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%w: anchors", ErrUnsupported)
	}
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v.kind {
		case 'o':
			v = v.get(tok)
		case 'a':
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v.arr) {
				return nil, fmt.Errorf("%w: no such element", ErrInvalid)
			}
			v = v.arr[i]
		default:
			v = nil
		}
		if v == nil {
			return nil, fmt.Errorf("%w: the reference points at nothing", ErrInvalid)
		}
	}
	return v, nil
}

// intKeyword reads a non-negative integer keyword; ok is false when absent.
func intKeyword(v *jvalue, keyword, path string) (n int, ok bool, err error) {
	x := v.get(keyword)
	if x == nil {
		return 0, false, nil
	}
	f, perr := strconv.ParseFloat(x.str, 64)
	if x.kind != 'n' || perr != nil || f < 0 || f != float64(int64(f)) || f > 1<<30 {
		return 0, false, errAt(path, keyword, ErrInvalid, "%s must be a non-negative integer", keyword)
	}
	return int(f), true, nil
}

// isFalse reports whether v is the boolean false.
func isFalse(v *jvalue) bool { return v != nil && v.kind == 'b' && !v.b }

// schemaErr turns a builder error into a SchemaError at path.
func schemaErr(path, keyword string, err error) error {
	var se *SchemaError
	if errors.As(err, &se) {
		return err
	}
	return &SchemaError{Path: path, Keyword: keyword, Err: err}
}
