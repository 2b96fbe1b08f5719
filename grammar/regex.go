package grammar

import (
	"fmt"
	"regexp/syntax"
	"unicode"
)

// maxPatternBytes bounds the length of a regular expression.
const maxPatternBytes = 4096

// CompileRegex compiles a regular expression (Go's RE2 syntax, which
// covers the common subset of JSON Schema's ECMA-262 patterns) into a
// grammar whose outputs are the whole strings it matches. Anchors (^ $ \A
// \z) are allowed only at the ends; word boundaries are unsupported.
func CompileRegex(pattern string, lim Limits) (*Grammar, error) {
	b := newBuilder(lim)
	e, err := b.regex(pattern, false, true)
	if err != nil {
		return nil, err
	}
	return b.finish(b.rule(e))
}

// regex turns pattern into an expression over raw text or, with inString,
// over the contents of a JSON string (the characters a JSON string must
// escape are produced as escapes). With full the pattern must match all of
// the text; else, as in JSON Schema, anywhere in it unless anchored.
func (b *builder) regex(pattern string, inString, full bool) (*expr, error) {
	if len(pattern) > maxPatternBytes {
		return nil, fmt.Errorf("%w: a pattern of %d bytes (at most %d)", ErrTooLarge, len(pattern), maxPatternBytes)
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("%w: pattern %q: %w", ErrInvalid, pattern, err)
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	anchoredStart, anchoredEnd := full, full
	if len(subs) > 0 && isBegin(subs[0].Op) {
		anchoredStart, subs = true, subs[1:]
	}
	if len(subs) > 0 && isEnd(subs[len(subs)-1].Op) {
		anchoredEnd, subs = true, subs[:len(subs)-1]
	}
	c := regexCompiler{b: b, inString: inString}
	var parts []*expr
	if !anchoredStart {
		parts = append(parts, repeat(c.anyChar(true), 0, -1))
	}
	for _, s := range subs {
		e, err := c.expr(s)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", pattern, err)
		}
		parts = append(parts, e)
	}
	if !anchoredEnd {
		parts = append(parts, repeat(c.anyChar(true), 0, -1))
	}
	return seq(parts...), b.err
}

// isBegin reports whether op anchors at the start.
func isBegin(op syntax.Op) bool { return op == syntax.OpBeginText || op == syntax.OpBeginLine }

// isEnd reports whether op anchors at the end.
func isEnd(op syntax.Op) bool { return op == syntax.OpEndText || op == syntax.OpEndLine }

// regexCompiler turns a parsed regular expression into an expression.
type regexCompiler struct {
	b        *builder
	inString bool
}

// expr converts one node.
func (c *regexCompiler) expr(re *syntax.Regexp) (*expr, error) {
	switch re.Op {
	case syntax.OpNoMatch:
		return never(), nil
	case syntax.OpEmptyMatch:
		return empty(), nil
	case syntax.OpLiteral:
		var parts []*expr
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				parts = append(parts, c.class(foldRanges(r)))
			} else {
				parts = append(parts, c.class([]rune{r, r}))
			}
		}
		return seq(parts...), nil
	case syntax.OpCharClass:
		return c.class(re.Rune), nil
	case syntax.OpAnyCharNotNL:
		return c.anyChar(false), nil
	case syntax.OpAnyChar:
		return c.anyChar(true), nil
	case syntax.OpCapture:
		return c.expr(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		sub, err := c.expr(re.Sub[0])
		if err != nil {
			return nil, err
		}
		lo, hi := re.Min, re.Max
		switch re.Op {
		case syntax.OpStar:
			lo, hi = 0, -1
		case syntax.OpPlus:
			lo, hi = 1, -1
		case syntax.OpQuest:
			lo, hi = 0, 1
		}
		return repeat(sub, lo, hi), nil
	case syntax.OpConcat, syntax.OpAlternate:
		parts := make([]*expr, len(re.Sub))
		for i, s := range re.Sub {
			e, err := c.expr(s)
			if err != nil {
				return nil, err
			}
			parts[i] = e
		}
		if re.Op == syntax.OpConcat {
			return seq(parts...), nil
		}
		return alt(parts...), nil
	}
	return nil, fmt.Errorf("%w: %s in a pattern (anchors only at its ends; no word boundaries)", ErrUnsupported, re.Op)
}

// foldRanges is the class of r and its case variants.
func foldRanges(r rune) []rune {
	out := []rune{r, r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, f, f)
	}
	return out
}

// anyChar matches any character (but a newline unless nl).
func (c *regexCompiler) anyChar(nl bool) *expr {
	if nl {
		return c.class([]rune{0, unicode.MaxRune})
	}
	return c.class([]rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune})
}

// class matches one rune of the ranges (pairs lo, hi).
func (c *regexCompiler) class(ranges []rune) *expr {
	var es []*expr
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if !c.inString {
			es = append(es, runeRange(lo, hi))
			continue
		}
		es = append(es, stringRunes(lo, hi)...)
	}
	c.b.count(len(es))
	if len(es) == 1 {
		return es[0]
	}
	return alt(es...)
}

// stringRunes matches runes lo..hi inside a JSON string: as themselves, or
// escaped where JSON requires it.
func stringRunes(lo, hi rune) []*expr {
	var es []*expr
	plain := func(a, b rune) {
		a, b = max(a, lo), min(b, hi)
		if a <= b {
			es = append(es, runeRange(a, b))
		}
	}
	plain(0x20, 0x21)
	plain(0x23, 0x5B)
	plain(0x5D, unicode.MaxRune)
	if hi >= 0 && lo <= 0x1F || lo <= '"' && hi >= '"' || lo <= '\\' && hi >= '\\' {
		var ws []string
		for r := max(lo, 0); r <= min(hi, '\\'); r++ {
			if r < 0x20 || r == '"' || r == '\\' {
				ws = append(ws, escapeRune(r))
			}
		}
		es = append(es, words(ws))
	}
	return es
}

// escapeRune is the JSON escape of r.
func escapeRune(r rune) string {
	switch r {
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	}
	return fmt.Sprintf(`\u%04x`, r)
}
