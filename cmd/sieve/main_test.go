package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sieve/internal/testmodels"
)

// sieve runs the command line in-process and returns its exit code and output.
func sieve(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := mainWithArgs(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRunGreedyMatchesReference(t *testing.T) {
	ref, err := os.ReadFile(testmodels.ReferencePath(t, "stories260K-greedy-once-upon-a-time.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-m", testmodels.Path(t, "stories260K.bin"), "-z", testmodels.Path(t, "tok512.bin")},
		{"-m", testmodels.Path(t, "stories260K.gguf")},
		{"-m", "demo"},
	} {
		args = append([]string{"run", "-p", "Once upon a time", "-n", "240", "--temp", "0"}, args...)
		code, out, errOut := sieve(args...)
		if code != 0 {
			t.Fatalf("sieve %v: exit %d: %s", args, code, errOut)
		}
		if len(out) < 500 || out[:500] != string(ref[:500]) {
			t.Errorf("sieve %v printed\n%q\nwant the first 500 bytes of the reference\n%q", args, out[:min(500, len(out))], ref[:500])
		}
	}
}

func TestBadInputsGiveClearErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gguf := testmodels.Path(t, "stories260K.gguf")
	whole, err := os.ReadFile(gguf)
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated.gguf", whole[:len(whole)/2])
	garbage := write("garbage.bin", []byte("this is not a model file at all, not even close"))
	badTok := write("tok.bin", []byte{1, 2})

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`},
		{"missing file", []string{"run", "-p", "hi", "-m", filepath.Join(dir, "nope.gguf")}, 1, "no such file"},
		{"truncated gguf", []string{"run", "-p", "hi", "-m", truncated}, 1, "invalid model file"},
		{"garbage", []string{"run", "-p", "hi", "-m", garbage}, 1, "invalid model file"},
		{"llama2c without tokenizer", []string{"run", "-p", "hi", "-m", testmodels.Path(t, "stories260K.bin")}, 1, "no tokenizer"},
		{"bad tokenizer", []string{"run", "-p", "hi", "-m", testmodels.Path(t, "stories260K.bin"), "-z", badTok}, 1, "tokenizer"},
		{"negative n", []string{"run", "-m", gguf, "-n", "-1"}, 1, "-n must be"},
		{"gen unknown shape", []string{"gen", "--shape", "huge", "-o", filepath.Join(dir, "x.gguf")}, 1, "unknown shape"},
		{"gen bad type", []string{"gen", "--shape", "tiny", "--type", "q4", "-o", filepath.Join(dir, "x.gguf")}, 1, "unknown type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := sieve(tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}

func TestGenWritesLoadableModel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny.gguf")
	if code, _, errOut := sieve("gen", "--shape", "tiny", "--type", "q8_0", "-o", out); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	code, stdout, errOut := sieve("run", "-m", out, "-p", "hi", "-n", "8", "--temp", "0")
	if code != 0 {
		t.Fatalf("run on generated model: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(stdout, "hi") {
		t.Errorf("output %q does not start with the prompt", stdout)
	}
}
