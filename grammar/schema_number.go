package grammar

import (
	"math"
	"strconv"
	"strings"
)

// maxBound is the largest magnitude of a generated integer.
const maxBound = 1e16 - 1

// bound is a minimum or maximum of a numeric schema.
type bound struct {
	val       float64
	set       bool
	exclusive bool
}

// numericBounds reads the bounds of a number or integer schema.
func numericBounds(v *jvalue, path string) (lo, hi bound, err error) {
	for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
		x := v.get(k)
		if x == nil {
			continue
		}
		f, perr := strconv.ParseFloat(x.str, 64)
		if x.kind != 'n' || perr != nil {
			return lo, hi, errAt(path, k, ErrInvalid, "%s must be a number", k)
		}
		if math.Abs(f) > maxBound {
			return lo, hi, errAt(path, k, ErrUnsupported, "a bound beyond ±%g", float64(maxBound))
		}
		b := &hi
		if strings.HasSuffix(k, "inimum") {
			b = &lo
		}
		b.set, b.val, b.exclusive = true, f, strings.HasPrefix(k, "exclusive")
	}
	return lo, hi, nil
}

// number compiles a number or integer schema with its bounds.
func (c *schemaCompiler) number(integer bool, v *jvalue, path string) (*expr, error) {
	if m := v.get("multipleOf"); m != nil {
		if f, err := strconv.ParseFloat(m.str, 64); m.kind != 'n' || err != nil || !integer || f != 1 {
			return nil, errAt(path, "multipleOf", ErrUnsupported, "only multipleOf 1 on integers is supported")
		}
	}
	lo, hi, err := numericBounds(v, path)
	if err != nil {
		return nil, err
	}
	switch {
	case !lo.set && !hi.set && integer:
		return c.j.integer(), nil
	case !lo.set && !hi.set:
		return c.j.number(), nil
	case !integer:
		return c.boundedNumber(lo, hi, path)
	}
	l, h := -maxBound, maxBound
	if lo.set {
		l = math.Ceil(lo.val)
		if lo.exclusive && l == lo.val {
			l++
		}
	}
	if hi.set {
		h = math.Floor(hi.val)
		if hi.exclusive && h == hi.val {
			h--
		}
	}
	if l > h {
		return never(), nil
	}
	return intRange(int64(l), int64(h)), nil
}

// boundedNumber compiles a number between bounds that are whole numbers,
// a minimum of at least 0 and a maximum of at least 0.
func (c *schemaCompiler) boundedNumber(lo, hi bound, path string) (*expr, error) {
	for _, b := range []struct {
		b       bound
		keyword string
	}{{lo, "minimum"}, {hi, "maximum"}} {
		if b.b.set && (b.b.val != math.Trunc(b.b.val) || b.b.val < 0) {
			return nil, errAt(path, b.keyword, ErrUnsupported, "bounds of a number must be whole numbers of at least 0 (use an integer, or scale)")
		}
	}
	re := func(p string) *expr { e, _ := c.b.regex(p, false, true); return e }
	anyFrac, zeroFrac, posFrac := re(`(\.[0-9]{1,15})?`), re(`(\.0{1,15})?`), re(`\.[0-9]{0,14}[1-9]`)
	l, h := int64(0), int64(maxBound)
	if lo.set {
		l = int64(lo.val)
	}
	if hi.set {
		h = int64(hi.val)
	}
	var es []*expr
	if !lo.set {
		es = append(es, re(`-(0\.[0-9]{0,14}[1-9]|[1-9][0-9]{0,15}(\.[0-9]{1,15})?)`))
	}
	from := l
	if lo.exclusive {
		if l < h {
			es = append(es, seq(lit(strconv.FormatInt(l, 10)), posFrac))
		}
		from = l + 1
	}
	if from <= h-1 {
		es = append(es, seq(intRange(from, h-1), anyFrac))
	}
	if !hi.exclusive && h >= from {
		es = append(es, seq(lit(strconv.FormatInt(h, 10)), zeroFrac))
	}
	return alt(es...), nil
}

// intRange matches the decimal integers lo..hi, without leading zeros
// or "-0".
func intRange(lo, hi int64) *expr {
	var es []*expr
	if hi >= 0 {
		es = append(es, uintRange(uint64(max(lo, 0)), uint64(hi)))
	}
	if lo < 0 {
		es = append(es, seq(lit("-"), uintRange(uint64(-min(hi, -1)), uint64(-lo))))
	}
	return alt(es...)
}

// uintRange matches the decimal numbers lo..hi without leading zeros.
func uintRange(lo, hi uint64) *expr {
	var es []*expr
	a, b := strconv.FormatUint(lo, 10), strconv.FormatUint(hi, 10)
	for n := len(a); n <= len(b); n++ {
		from, to := a, b
		if n > len(a) {
			from = "1" + strings.Repeat("0", n-1)
		}
		if n < len(b) {
			to = strings.Repeat("9", n)
		}
		es = append(es, digitsRange(from, to))
	}
	return alt(es...)
}

// digitsRange matches the digit strings from..to of their common length.
func digitsRange(from, to string) *expr {
	n := len(from)
	if n == 0 {
		return empty()
	}
	if from[0] == to[0] {
		return seq(exprSet(setOf(from[0])), digitsRange(from[1:], to[1:]))
	}
	anyDigits := repeat(exprSet(rangeSet('0', '9')), n-1, n-1)
	if strings.Trim(from[1:], "0") == "" && strings.Trim(to[1:], "9") == "" {
		return seq(exprSet(rangeSet(from[0], to[0])), anyDigits)
	}
	es := []*expr{seq(exprSet(setOf(from[0])), digitsRange(from[1:], strings.Repeat("9", n-1)))}
	if from[0]+1 <= to[0]-1 {
		es = append(es, seq(exprSet(rangeSet(from[0]+1, to[0]-1)), anyDigits))
	}
	es = append(es, seq(exprSet(setOf(to[0])), digitsRange(strings.Repeat("0", n-1), to[1:])))
	return alt(es...)
}
