package server

import (
	"fmt"
	"regexp"
	"strings"
)

// Patterns of checkMacros: a tag, a string literal inside one, an
// identifier, and a macro definition.
var (
	templateTag     = regexp.MustCompile(`(?s)\{\{.*?\}\}|\{%.*?%\}`)
	templateString  = regexp.MustCompile(`'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"`)
	templateIdent   = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	templateMacroOf = regexp.MustCompile(`^\{%-?\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)`)
	templateEndOf   = regexp.MustCompile(`^\{%-?\s*endmacro\b`)
)

// checkMacros refuses a template whose macros could recurse. The Jinja
// library has no recursion limit: a macro that calls itself grows the
// goroutine's stack until the Go runtime kills the whole process (a fatal
// error that recover cannot catch), so this is checked before the template
// is used. The rule is strict and simple: a macro may be used only by
// calling it by name ("name(") outside every macro body. Macro calls from
// inside a macro, and a macro passed or stored as a value (which could
// alias it), are refused. Chat templates seldom use macros at all.
func checkMacros(src string) error {
	type use struct {
		name     string
		inMacro  bool
		asCall   bool
		defining bool
	}
	var uses []use
	macros := map[string]bool{}
	depth := 0
	for _, tag := range templateTag.FindAllString(src, -1) {
		if m := templateMacroOf.FindStringSubmatch(tag); m != nil {
			macros[m[1]] = true
			uses = append(uses, use{name: m[1], defining: true})
			depth++
		} else if templateEndOf.MatchString(tag) {
			depth = max(0, depth-1)
			continue
		}
		code := templateString.ReplaceAllString(tag, "''")
		for _, loc := range templateIdent.FindAllStringIndex(code, -1) {
			rest := strings.TrimLeft(code[loc[1]:], " \t\r\n")
			uses = append(uses, use{name: code[loc[0]:loc[1]], inMacro: depth > 0, asCall: strings.HasPrefix(rest, "(")})
		}
	}
	skipHeader := map[string]bool{}
	for _, u := range uses {
		switch {
		case !macros[u.name]:
		case u.defining:
			skipHeader[u.name] = true // the next use is the name in its own header
		case skipHeader[u.name]:
			delete(skipHeader, u.name)
		case u.inMacro:
			return fmt.Errorf("chat template: macro %q is used inside a macro; Sieve refuses macros that could recurse", u.name)
		case !u.asCall:
			return fmt.Errorf("chat template: macro %q is used as a value; Sieve only allows calling macros by name", u.name)
		}
	}
	return nil
}
