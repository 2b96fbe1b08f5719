package grammar

import "unicode"

// Regular pieces of JSON text. Numbers have at most 16 integer and 15
// fraction digits and no exponent, so that a model cannot loop on digits
// and every number parses as a float64.
const (
	numberPattern  = `-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,15})?`
	integerPattern = `-?(0|[1-9][0-9]{0,15})`
	hex4NoSurrog   = `([0-9a-cA-Ce-fE-F][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2})`
	maxIntDigits   = 16
)

// jsonRules builds, once each, the rules of JSON's pieces for a builder.
type jsonRules struct {
	b                         *builder
	wsRule, charRule, strRule int32
	numRule, intRule          int32
	valueRule                 int32
}

// newJSONRules returns an empty set of JSON rules for b.
func newJSONRules(b *builder) *jsonRules {
	return &jsonRules{b: b, wsRule: -1, charRule: -1, strRule: -1, numRule: -1, intRule: -1, valueRule: -1}
}

// once returns *r, making it with mk the first time.
func (j *jsonRules) once(r *int32, mk func() *expr) *expr {
	if *r < 0 {
		*r = j.b.newRule()
		j.b.define(*r, mk())
	}
	return ref(*r)
}

// ws is the whitespace allowed between tokens: at most MaxWhitespace
// spaces, tabs or newlines.
func (j *jsonRules) ws() *expr {
	return j.once(&j.wsRule, func() *expr { return repeat(exprSet(setOf(' ', '\t', '\n')), 0, j.b.lim.MaxWhitespace) })
}

// char is one character of a JSON string: a character that needs no
// escape, or an escape (\u escapes of surrogates excluded).
func (j *jsonRules) char() *expr {
	return j.once(&j.charRule, func() *expr {
		esc, _ := j.b.regex(`\\(["\\/bfnrt]|u`+hex4NoSurrog+`)`, false, true)
		return alt(runeRange(0x20, 0x21), runeRange(0x23, 0x5B), runeRange(0x5D, unicode.MaxRune), esc)
	})
}

// str is any JSON string.
func (j *jsonRules) str() *expr {
	return j.once(&j.strRule, func() *expr { return seq(lit(`"`), repeat(j.char(), 0, -1), lit(`"`)) })
}

// number is a JSON number (see numberPattern).
func (j *jsonRules) number() *expr {
	return j.once(&j.numRule, func() *expr { e, _ := j.b.regex(numberPattern, false, true); return e })
}

// integer is a JSON integer (see integerPattern).
func (j *jsonRules) integer() *expr {
	return j.once(&j.intRule, func() *expr { e, _ := j.b.regex(integerPattern, false, true); return e })
}

// value is any JSON value.
func (j *jsonRules) value() *expr {
	if j.valueRule >= 0 {
		return ref(j.valueRule)
	}
	j.valueRule = j.b.newRule()
	j.b.define(j.valueRule, alt(j.object(), j.array(), j.str(), j.number(), words([]string{"true", "false", "null"})))
	return ref(j.valueRule)
}

// object is any JSON object.
func (j *jsonRules) object() *expr {
	member := seq(j.str(), j.ws(), lit(":"), j.ws(), j.value(), j.ws())
	m := ref(j.b.rule(member))
	return seq(lit("{"), j.ws(), opt(seq(m, repeat(seq(lit(","), j.ws(), m), 0, -1))), lit("}"))
}

// array is any JSON array.
func (j *jsonRules) array() *expr {
	item := ref(j.b.rule(seq(j.value(), j.ws())))
	return seq(lit("["), j.ws(), opt(seq(item, repeat(seq(lit(","), j.ws(), item), 0, -1))), lit("]"))
}

// CompileJSON compiles the grammar of any JSON value, or with objectOnly
// of any JSON object (OpenAI's json_object response format). Leading
// whitespace is allowed; the output ends with the value.
func CompileJSON(objectOnly bool, lim Limits) (*Grammar, error) {
	b := newBuilder(lim)
	j := newJSONRules(b)
	v := j.value()
	if objectOnly {
		v = j.object()
	}
	return b.finish(b.rule(seq(j.ws(), v)))
}

// CompileChoice compiles the grammar whose outputs are exactly the given
// strings.
func CompileChoice(choices []string, lim Limits) (*Grammar, error) {
	if len(choices) == 0 {
		return nil, ErrUnsatisfiable
	}
	if len(choices) > lim.MaxEnum {
		return nil, ErrTooLarge
	}
	b := newBuilder(lim)
	total := 0
	for _, c := range choices {
		total += len(c)
	}
	b.count(total)
	return b.finish(b.rule(words(choices)))
}
