package grammar

import (
	"fmt"
	"strings"
)

// property is one member an object may or must have.
type property struct {
	name     string
	schema   *jvalue // nil: any value
	required bool
}

// object compiles an object schema: the properties in schema order, the
// required ones always, the optional ones or not, then additional
// properties when additionalProperties allows them (when it is absent,
// none are generated unless the schema names no properties at all).
func (c *schemaCompiler) object(v *jvalue, path string) (*expr, error) {
	ap := v.get("additionalProperties")
	if v.get("properties") == nil && v.get("required") == nil && ap == nil {
		if v.get("minProperties") == nil && v.get("maxProperties") == nil {
			return c.j.object(), nil
		}
		ap = &jvalue{kind: 'b', b: true}
	}
	var props []property
	if ps := v.get("properties"); ps != nil {
		if ps.kind != 'o' {
			return nil, errAt(path, "properties", ErrInvalid, "properties must be an object")
		}
		for _, m := range ps.obj {
			props = append(props, property{name: m.key, schema: m.val})
		}
	}
	if req := v.get("required"); req != nil {
		if req.kind != 'a' {
			return nil, errAt(path, "required", ErrInvalid, "required must be an array of strings")
		}
		for _, r := range req.arr {
			if r.kind != 's' {
				return nil, errAt(path, "required", ErrInvalid, "required must be an array of strings")
			}
			found := false
			for i := range props {
				if props[i].name == r.str {
					props[i].required, found = true, true
				}
			}
			if !found {
				props = append(props, property{name: r.str, required: true})
			}
		}
	}
	if u := v.get("unevaluatedProperties"); u != nil && u.kind != 'b' {
		return nil, errAt(path, "unevaluatedProperties", ErrUnsupported, "only a boolean is supported")
	}
	var extra *expr
	if ap != nil && !isFalse(ap) {
		val, err := c.schema(ap, path+"/additionalProperties")
		if err != nil {
			return nil, err
		}
		var names []string
		for _, p := range props {
			names = append(names, p.name)
		}
		key := keyNotIn(c.b, names)
		extra = ref(c.b.rule(seq(key, c.j.ws(), lit(":"), c.j.ws(), val, c.j.ws())))
	}
	members := make([]*expr, len(props))
	for i, p := range props {
		val := c.j.value()
		if p.schema != nil {
			var err error
			if val, err = c.schema(p.schema, path+"/properties/"+escapePointer(p.name)); err != nil {
				return nil, err
			}
		}
		members[i] = seq(lit(string(appendString(nil, p.name))), c.j.ws(), lit(":"), c.j.ws(), val, c.j.ws())
	}
	minP, _, err := intKeyword(v, "minProperties", path)
	if err != nil {
		return nil, err
	}
	maxP, boundedP, err := intKeyword(v, "maxProperties", path)
	if err != nil {
		return nil, err
	}
	if !boundedP {
		maxP = -1
	}
	// rest[i][n] is the grammar of the members from i on after n were
	// written (a comma comes first when n > 0). Without min/maxProperties
	// only whether any was written matters, and n stops at 1.
	limit := 1
	if minP > 0 || boundedP {
		limit = len(props) + 1
	}
	count := func(n int) int { return min(n, limit) }
	rest := make([][]int32, len(props)+1)
	for i := range rest {
		rest[i] = make([]int32, limit+1)
	}
	comma := seq(lit(","), c.j.ws())
	for n := 0; n <= limit; n++ {
		rest[len(props)][n] = c.b.rule(c.extras(extra, comma, n, minP, maxP))
	}
	for i := len(props) - 1; i >= 0; i-- {
		m := ref(c.b.rule(members[i]))
		for n := 0; n <= min(i, limit); n++ {
			with := seq(m, ref(rest[i+1][count(n+1)]))
			if n > 0 {
				with = seq(comma, with)
			}
			if props[i].required {
				rest[i][n] = c.b.rule(with)
			} else {
				rest[i][n] = c.b.rule(alt(with, ref(rest[i+1][n])))
			}
		}
	}
	if c.b.err != nil {
		return nil, schemaErr(path, "properties", c.b.err)
	}
	return seq(lit("{"), c.j.ws(), ref(rest[0][0]), lit("}")), nil
}

// extras is the grammar of the additional properties (extra: one member,
// nil when none are allowed) after n members, so that the object has
// minP to maxP (maxP < 0: any number) members in all.
func (c *schemaCompiler) extras(extra, comma *expr, n, minP, maxP int) *expr {
	lo, hi := max(minP-n, 0), -1
	if maxP >= 0 {
		if hi = maxP - n; hi < 0 {
			return never()
		}
	}
	switch {
	case extra == nil && lo > 0:
		return never()
	case extra == nil || hi == 0:
		return empty()
	case n > 0:
		return repeat(seq(comma, extra), lo, hi)
	case lo == 0:
		return opt(seq(extra, repeat(seq(comma, extra), 0, max(hi-1, -1))))
	}
	return seq(extra, repeat(seq(comma, extra), lo-1, max(hi-1, -1)))
}

// escapePointer escapes a JSON pointer token.
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// keyNotIn matches a JSON string that is none of names: its characters
// are printable ASCII other than '"' and '\', so that no escape can spell
// a listed name differently.
func keyNotIn(b *builder, names []string) *expr {
	var plain byteSet
	plain.add(0x20, 0x7E)
	plain[0] &^= 1 << '"'
	plain[1] &^= 1 << ('\\' - 64)
	type node struct {
		end  bool
		kids map[byte]*node
		keys []byte
	}
	root := &node{}
	for _, n := range names {
		ok := true
		for i := range len(n) {
			if !plain.has(n[i]) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		cur := root
		for i := range len(n) {
			if cur.kids == nil {
				cur.kids = map[byte]*node{}
			}
			k, found := cur.kids[n[i]]
			if !found {
				k = &node{}
				cur.kids[n[i]] = k
				cur.keys = append(cur.keys, n[i])
			}
			cur = k
		}
		cur.end = true
	}
	free := ref(b.rule(seq(repeat(exprSet(plain), 0, -1), lit(`"`))))
	var build func(n *node) *expr
	build = func(n *node) *expr {
		others := plain
		var es []*expr
		for _, k := range n.keys {
			others[k>>6] &^= 1 << (k & 63)
			es = append(es, seq(exprSet(setOf(k)), build(n.kids[k])))
		}
		es = append(es, seq(exprSet(others), free))
		if !n.end {
			es = append(es, lit(`"`))
		}
		return ref(b.rule(alt(es...)))
	}
	return seq(lit(`"`), build(root))
}

// array compiles an array schema: prefixItems, then items (any value when
// absent), between minItems and maxItems elements in all.
func (c *schemaCompiler) array(v *jvalue, path string) (*expr, error) {
	if u := v.get("uniqueItems"); u != nil && !isFalse(u) {
		return nil, errAt(path, "uniqueItems", ErrUnsupported, "uniqueItems: true is not supported")
	}
	lo, _, err := intKeyword(v, "minItems", path)
	if err != nil {
		return nil, err
	}
	hi, bounded, err := intKeyword(v, "maxItems", path)
	if err != nil {
		return nil, err
	}
	if !bounded {
		hi = -1
	}
	if bounded && hi < lo {
		return never(), nil
	}
	item := c.j.value()
	if it := v.get("items"); it != nil {
		if it.kind == 'a' {
			return nil, errAt(path, "items", ErrUnsupported, "items as an array (draft 4 tuples; use prefixItems)")
		}
		if item, err = c.schema(it, path+"/items"); err != nil {
			return nil, err
		}
	}
	one := ref(c.b.rule(seq(item, c.j.ws())))
	more := seq(lit(","), c.j.ws(), one)
	var body *expr
	switch {
	case hi == 0:
		body = empty()
	case lo == 0:
		body = opt(seq(one, repeat(more, 0, max(hi-1, -1))))
	default:
		body = seq(one, repeat(more, lo-1, max(hi-1, -1)))
	}
	if p := v.get("prefixItems"); p != nil {
		if body, err = c.tuple(p, more, lo, hi, path); err != nil {
			return nil, err
		}
	}
	if c.b.err != nil {
		return nil, schemaErr(path, "maxItems", c.b.err)
	}
	return seq(lit("["), c.j.ws(), body, lit("]")), nil
}

// tuple is the body of an array with prefixItems: the prefix schemas in
// order, then (more) items, lo to hi elements in all (hi < 0: unbounded).
func (c *schemaCompiler) tuple(p *jvalue, more *expr, lo, hi int, path string) (*expr, error) {
	if p.kind != 'a' {
		return nil, errAt(path, "prefixItems", ErrInvalid, "prefixItems must be an array of schemas")
	}
	k := len(p.arr)
	// After the prefix: further items, each after a comma.
	rest := empty()
	if hi < 0 || hi > k {
		rest = repeat(more, max(lo-k, 0), max(hi-k, -1))
	} else if lo > k {
		rest = never()
	}
	next := ref(c.b.rule(rest))
	for i := k - 1; i >= 0; i-- {
		e, err := c.schema(p.arr[i], fmt.Sprintf("%s/prefixItems/%d", path, i))
		if err != nil {
			return nil, err
		}
		el := seq(e, c.j.ws(), next)
		if i > 0 {
			el = seq(lit(","), c.j.ws(), el)
		}
		switch {
		case hi >= 0 && i >= hi:
			next = ref(c.b.rule(empty()))
		case i >= lo:
			next = ref(c.b.rule(alt(el, empty())))
		default:
			next = ref(c.b.rule(el))
		}
	}
	return next, nil
}

// formats are the string formats generated to their pattern; other
// formats are annotations and generate any string.
var formats = map[string]string{
	"date":      `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$`,
	"time":      `^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`,
	"date-time": `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`,
	"uuid":      `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
	"email":     `^[a-z0-9._+-]{1,32}@[a-z0-9-]{1,32}(\.[a-z0-9-]{1,16}){1,3}$`,
}

// str compiles a string schema: pattern, a known format, or minLength
// and maxLength characters.
func (c *schemaCompiler) str(v *jvalue, path string) (*expr, error) {
	lo, _, err := intKeyword(v, "minLength", path)
	if err != nil {
		return nil, err
	}
	hi, bounded, err := intKeyword(v, "maxLength", path)
	if err != nil {
		return nil, err
	}
	lengths := lo > 0 || bounded
	pattern, keyword := "", ""
	if f := v.get("format"); f != nil && f.kind == 's' {
		pattern, keyword = formats[f.str], "format"
	}
	if p := v.get("pattern"); p != nil {
		if p.kind != 's' {
			return nil, errAt(path, "pattern", ErrInvalid, "pattern must be a string")
		}
		pattern, keyword = p.str, "pattern"
	}
	if pattern != "" {
		if lengths {
			return nil, errAt(path, keyword, ErrUnsupported, "%s together with minLength or maxLength", keyword)
		}
		e, err := c.b.regex(pattern, true, false)
		if err != nil {
			return nil, schemaErr(path, keyword, err)
		}
		return seq(lit(`"`), e, lit(`"`)), nil
	}
	if !lengths {
		return c.j.str(), nil
	}
	if !bounded {
		hi = -1
	} else if hi < lo {
		return never(), nil
	}
	body := repeat(c.j.char(), lo, hi)
	e := seq(lit(`"`), body, lit(`"`))
	if c.b.count(lo + max(hi, 0)); c.b.err != nil {
		return nil, schemaErr(path, "maxLength", c.b.err)
	}
	return e, nil
}
