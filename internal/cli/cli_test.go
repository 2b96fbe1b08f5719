package cli

import (
	"bytes"
	"flag"
	"io"
	"slices"
	"testing"
)

// testFlags returns a flag set with a model flag (-m, --model), a threads
// flag (--threads, -t), a tokenizer flag (-z, --tokenizer) and a count
// without aliases, all writing to out.
func testFlags(out io.Writer) (*flag.FlagSet, *string, *int, *int) {
	fs := NewFlagSet("sieve test", out)
	model := fs.String("m", "", "model `file`")
	threads := fs.Int("threads", 4, "worker threads")
	count := fs.Int("count", 0, "how many")
	fs.String("z", "", "tokenizer")
	Alias(fs, "m", "model")
	Alias(fs, "z", "tokenizer")
	Alias(fs, "threads", "t")
	return fs, model, threads, count
}

func TestAliasSetsTheSameVariable(t *testing.T) {
	tests := []struct {
		args         []string
		model        string
		threads      int
		givenThreads bool
	}{
		{args: nil, threads: 4},
		{args: []string{"-m", "a.gguf"}, model: "a.gguf", threads: 4},
		{args: []string{"--model", "b.gguf", "-t", "2"}, model: "b.gguf", threads: 2, givenThreads: true},
		{args: []string{"--model=c.gguf", "--threads=3"}, model: "c.gguf", threads: 3, givenThreads: true},
		{args: []string{"-t", "1", "--threads", "5"}, threads: 5, givenThreads: true},
	}
	for _, tc := range tests {
		fs, model, threads, _ := testFlags(io.Discard)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if *model != tc.model || *threads != tc.threads || Given(fs, "threads") != tc.givenThreads {
			t.Errorf("%v: model %q, threads %d, threads given %v; want %q, %d, %v",
				tc.args, *model, *threads, Given(fs, "threads"), tc.model, tc.threads, tc.givenThreads)
		}
	}
}

func TestNames(t *testing.T) {
	fs, _, _, _ := testFlags(io.Discard)
	Alias(fs, "m", "model-path")
	for name, want := range map[string][]string{
		"m":       {"m", "model", "model-path"},
		"threads": {"threads", "t"},
		"count":   {"count"},
		"nope":    nil,
	} {
		if got := Names(fs, name); !slices.Equal(got, want) {
			t.Errorf("Names(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHelpListsEachFlagOnceWithItsAliases(t *testing.T) {
	var out bytes.Buffer
	fs, _, _, _ := testFlags(&out)
	if err := fs.Parse([]string{"--help"}); err != flag.ErrHelp {
		t.Fatalf("--help: %v, want flag.ErrHelp", err)
	}
	want := "usage: sieve test [flags]\n\nflags:\n" +
		"  --count int\n    \thow many\n" +
		"  -m, --model file\n    \tmodel file\n" +
		"  -t, --threads int\n    \tworker threads (default 4)\n" +
		"  -z, --tokenizer string\n    \ttokenizer\n"
	if out.String() != want {
		t.Errorf("help:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestAliasOfUndefinedFlagPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Alias of an undefined flag did not panic")
		}
	}()
	Alias(flag.NewFlagSet("x", flag.ContinueOnError), "missing", "m")
}
