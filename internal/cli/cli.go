// Package cli holds the command-line conventions every sieve command
// shares on top of the standard flag package: alias names registered on
// the same variable, and help that lists each flag once with its aliases.
package cli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// aliasPrefix starts the usage text of an alias; the help lists the alias
// beside the flag it names instead of on a line of its own.
const aliasPrefix = "same as --"

// NewFlagSet returns a flag set named name (the command, e.g. "sieve
// bench decode") that reports errors instead of exiting, writes to w, and
// prints its help with PrintDefaults under a "usage: NAME [flags]" line.
func NewFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: %s [flags]\n\nflags:\n", name)
		PrintDefaults(fs)
	}
	return fs
}

// Alias registers each of aliases as another name of the flag called name,
// setting the same variable. It panics when name is not defined, or an
// alias already is: both are mistakes in the program, not in its input.
func Alias(fs *flag.FlagSet, name string, aliases ...string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("cli: alias of undefined flag " + name)
	}
	for _, a := range aliases {
		fs.Var(f.Value, a, aliasPrefix+name)
	}
}

// Names returns the names of the flag called name, itself first and then
// its aliases in name order; nil when no flag has that name.
func Names(fs *flag.FlagSet, name string) []string {
	if fs.Lookup(name) == nil {
		return nil
	}
	names := []string{name}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == aliasPrefix+name {
			names = append(names, f.Name)
		}
	})
	return names
}

// PrintDefaults writes the help of fs's flags to its output: one entry per
// flag, sorted by its first long name, listing its one-letter names with
// one dash and its long names with two ("-m, --model string"), then its
// usage and default.
func PrintDefaults(fs *flag.FlagSet) {
	type entry struct {
		key   string
		names []string
		f     *flag.Flag
	}
	var entries []entry
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, aliasPrefix) {
			return
		}
		names := Names(fs, f.Name)
		sort.SliceStable(names, func(i, j int) bool { return len(names[i]) == 1 && len(names[j]) > 1 })
		key := names[len(names)-1]
		for _, n := range names {
			if len(n) > 1 {
				key = n
				break
			}
		}
		entries = append(entries, entry{key, names, f})
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	w := fs.Output()
	for _, e := range entries {
		dashed := make([]string, len(e.names))
		for i, n := range e.names {
			dashed[i] = "--" + n
			if len(n) == 1 {
				dashed[i] = "-" + n
			}
		}
		typ, usage := flag.UnquoteUsage(e.f)
		line := "  " + strings.Join(dashed, ", ")
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if def := e.f.DefValue; def != "" && def != "0" && def != "false" && def != "0s" {
			if typ == "string" {
				def = fmt.Sprintf("%q", def)
			}
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	}
}

// Given reports whether any name of the flag called name was set on the
// command line.
func Given(fs *flag.FlagSet, name string) bool {
	given := false
	names := Names(fs, name)
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			given = given || f.Name == n
		}
	})
	return given
}
