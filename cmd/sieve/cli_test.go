package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

// commandPaths lists every runnable command as its argument path, groups'
// subcommands included ("run", "bench decode", ...), and the groups
// themselves.
func commandPaths(cmds []command, prefix []string) [][]string {
	var paths [][]string
	for _, c := range cmds {
		path := append(append([]string(nil), prefix...), c.name)
		paths = append(paths, path)
		paths = append(paths, commandPaths(c.subs, path)...)
	}
	return paths
}

func TestHelpExitsZeroForEveryCommand(t *testing.T) {
	paths := append(commandPaths(commands(), nil), nil) // nil: sieve itself
	if len(paths) < 20 {
		t.Fatalf("only %d commands: %v", len(paths), paths)
	}
	for _, path := range paths {
		for _, help := range []string{"-h", "--help"} {
			args := append(append([]string(nil), path...), help)
			code, out, errOut := sieve(args...)
			want := strings.TrimSpace("usage: sieve " + strings.Join(path, " "))
			if code != 0 || out != "" || !strings.Contains(errOut, want) {
				t.Errorf("sieve %s: exit %d, stdout %q, stderr %.200q; want exit 0 and %q on stderr",
					strings.Join(args, " "), code, out, errOut, want)
			}
		}
	}
}

func TestHelpNamesAliasesBesideTheirFlag(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "-h"}, []string{"-m, --model string", "--max-num-seqs, --max-seqs int", "--max-num-batched-tokens, --max-batch-tokens int", "-t, --threads int"}},
		{[]string{"run", "-h"}, []string{"-c, --ctx-size int", "-m, --model string", "-p, --prompt string", "-t, --threads int", "-z, --tokenizer file"}},
		{[]string{"bench", "decode", "-h"}, []string{"-p, --prompt int", "-n, --gen int", "-r, --repeats int", "-d, --depth int", "--prefill-chunk, --chunk int"}},
		{[]string{"bench", "throughput", "-h"}, []string{"--num-prompts, --requests int", "--max-num-seqs, --max-seqs int"}},
		{[]string{"bench", "soak", "-h"}, []string{"--kv-policy, --kv-policies string", "--kv-budget, --kv-budgets string"}},
		{[]string{"eval", "ppl", "-h"}, []string{"--kv-policy, --kv-policies, --policies string", "--kv-budget, --budgets, --kv-budgets string", "--kv-sink-tokens, --sink-tokens string"}},
		{[]string{"calibrate", "-h"}, []string{"--kv-budget, --budget string", "-m, --model string"}},
		{[]string{"analyze", "attention", "-h"}, []string{"-m, --model string", "-t, --threads int"}},
	}
	for _, tc := range tests {
		code, _, errOut := sieve(tc.args...)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(errOut, "  "+w+"\n") {
				t.Errorf("sieve %s: exit %d, help lacks %q:\n%s", strings.Join(tc.args, " "), code, w, errOut)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := sieve(args...)
		if code != 0 || !strings.HasPrefix(out, "sieve ") || !strings.Contains(out, ", commit ") || !strings.HasSuffix(out, "\n") {
			t.Errorf("sieve %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestVersionLine(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "sieve unknown, commit unknown, unknown"},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "sieve (devel), commit unknown, go1.26.8"},
		{"clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"},
			Settings: vcs("vcs.revision", "0123abc", "vcs.time", "2026-12-01T10:00:00Z", "vcs.modified", "false")},
			"sieve v0.3.0, commit 0123abc (2026-12-01T10:00:00Z), go1.26.8"},
		{"modified checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "0123abc", "vcs.modified", "true")},
			"sieve (devel), commit 0123abc+dirty, go1.26.8"},
	}
	for _, tc := range tests {
		if got := versionLine(tc.info); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRunPromptComesFromFlagOrStdin(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantErr string
		prefix  string
	}{
		{name: "-p", args: []string{"-p", "Once upon"}, prefix: "Once upon"},
		{name: "--prompt and llama.cpp names", args: []string{"--prompt", "Once upon", "--n-predict", "4", "--ctx-size", "32", "-t", "1"}, prefix: "Once upon"},
		{name: "stdin", stdin: "Once upon a time\n", prefix: "Once upon a time"},
		{name: "no prompt", wantErr: "no prompt"},
		{name: "context under the prompt", args: []string{"-p", "Once upon a time", "-c", "3"}, wantErr: "the context is 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--model", "demo", "-n", "8", "--temp", "0"}, tc.args...)
			err := runWithInput(context.Background(), args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			out := stdout.String()
			if err != nil || !strings.HasPrefix(out, tc.prefix) || len(out) <= len(tc.prefix) || !strings.HasSuffix(out, "\n") {
				t.Fatalf("error %v, output %q: want %q, a continuation and a final newline", err, out, tc.prefix)
			}
		})
	}
}

func TestBenchDecodeTakesLlamaBenchNames(t *testing.T) {
	code, out, errOut := sieve("bench", "decode", "--model", "demo", "-p", "16", "-n", "4", "-r", "1", "-d", "8", "-t", "1", "--chunk", "8", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Threads int `json:"threads"`
		Prompt  int `json:"prompt"`
		Gen     int `json:"gen"`
		Depth   int `json:"depth"`
		Repeats int `json:"repeats"`
		Chunk   int `json:"chunk"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Threads != 1 || got.Prompt != 16 || got.Gen != 4 || got.Depth != 8 || got.Repeats != 1 || got.Chunk != 8 {
		t.Errorf("decode ran %+v, want threads 1, prompt 16, gen 4, depth 8, repeats 1, chunk 8", got)
	}
}

func TestAnalyzeAndCalibrateTakeTheDemoModel(t *testing.T) {
	common := []string{"-m", "demo", "--text", "../../eval/testdata/stories.txt", "--max-tokens", "48", "--sequences", "1", "-t", "1"}
	if code, out, errOut := sieve(append([]string{"analyze", "activations"}, common...)...); code != 0 || !strings.Contains(out, "max/median") {
		t.Errorf("analyze -m demo: exit %d, output %q, stderr %q", code, out, errOut)
	}
	profile := t.TempDir() + "/profile.json"
	if code, out, errOut := sieve(append([]string{"calibrate", "--kv-budget", "16", "-o", profile}, common...)...); code != 0 || !strings.Contains(out, profile) {
		t.Errorf("calibrate -m demo: exit %d, output %q, stderr %q", code, out, errOut)
	}
}
