package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sieve/internal/testmodels"
	"sieve/model/demo"
	"sieve/model/hub/hubtest"
)

// offlineHub points the hub client at a fresh cache and at an imitation
// hub serving repos (none: an address where nothing listens).
func offlineHub(t *testing.T, repos map[string]*hubtest.Repo) *hubtest.Server {
	t.Helper()
	srv := hubtest.New()
	for name, r := range repos {
		srv.Add(name, r)
	}
	t.Cleanup(srv.Close)
	if repos == nil {
		srv.Close()
	}
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "")
	t.Setenv("SIEVE_HOME", t.TempDir())
	return srv
}

func TestRunWithoutModelFallsBackToDemoOffline(t *testing.T) {
	offlineHub(t, nil)
	code, out, errOut := sieve("run", "-p", "Once upon a time", "-n", "8", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var notes []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "sieve:") {
			notes = append(notes, l)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "cannot be reached") || !strings.Contains(notes[0], "built-in demo model stories260K") {
		t.Errorf("want one line saying the hub cannot be reached and the demo is used; stderr:\n%s", errOut)
	}
	if !strings.HasPrefix(out, "Once upon a time") || len(out) <= len("Once upon a time\n") {
		t.Errorf("stdout %q: want the prompt and a continuation", out)
	}
}

func TestRunWithoutModelPullsDefault(t *testing.T) {
	// The imitation hub serves stories260K under the default model's name.
	repo, file, _ := strings.Cut(defaultModel, ":")
	srv := offlineHub(t, map[string]*hubtest.Repo{repo: {Files: map[string][]byte{file: demo.GGUF()}}})
	for range 2 { // the second run finds it in the cache
		code, out, errOut := sieve("run", "-p", "Once upon a time", "-n", "8", "--temp", "0")
		if code != 0 || strings.Contains(errOut, "demo") {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		if !strings.HasPrefix(out, "Once upon a time,") {
			t.Errorf("stdout %q", out)
		}
	}
	if n := strings.Count(strings.Join(srv.Requests(), "\n"), "GET /cdn/"); n != 1 {
		t.Errorf("%d downloads of the default model, want 1", n)
	}
}

func TestRunHFModelMatchesReference(t *testing.T) {
	ref, err := os.ReadFile(testmodels.ReferencePath(t, "stories260K-greedy-once-upon-a-time.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gguf, err := os.ReadFile(testmodels.Path(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	srv := offlineHub(t, map[string]*hubtest.Repo{"ggml-org/models": {Files: map[string][]byte{"tinyllamas/stories260K.gguf": gguf}}})
	args := []string{"run", "-m", "hf://ggml-org/models/tinyllamas/stories260K.gguf", "-p", "Once upon a time", "-n", "240", "--temp", "0"}
	code, out, errOut := sieve(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(out) < 500 || out[:500] != string(ref[:500]) {
		t.Errorf("output %q\nwant the first 500 bytes of the reference", out[:min(500, len(out))])
	}
	srv.Close() // cached now: no hub needed
	if code, _, errOut := sieve(args...); code != 0 {
		t.Errorf("second run with the hub gone: exit %d: %s", code, errOut)
	}
}

func TestPullModelsRm(t *testing.T) {
	gguf := demo.GGUF()
	offlineHub(t, map[string]*hubtest.Repo{
		"org/stories": {Files: map[string][]byte{"stories260K.gguf": gguf}},
		"org/private": {Files: map[string][]byte{"p.gguf": gguf}, Token: "t0k"},
	})
	code, out, errOut := sieve("pull", "org/stories:stories260K.gguf")
	if code != 0 {
		t.Fatalf("pull: exit %d: %s", code, errOut)
	}
	path := strings.TrimSpace(out)
	if st, err := os.Stat(path); err != nil || st.Size() != int64(len(gguf)) {
		t.Fatalf("pull printed %q: %v", path, err)
	}
	if !strings.Contains(errOut, "downloading org/stories:stories260K.gguf (1.2 MB)") {
		t.Errorf("no progress lines on stderr:\n%s", errOut)
	}
	code, out, _ = sieve("models")
	if code != 0 || !strings.Contains(out, "org/stories") || !strings.Contains(out, "stories260K.gguf") ||
		!strings.Contains(out, "1.2 MB") || !strings.Contains(out, path) {
		t.Errorf("models: exit %d:\n%s", code, out)
	}
	if code, _, errOut := sieve("pull", "org/private:p.gguf"); code != 1 || !strings.Contains(errOut, "HF_TOKEN") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("pull of a private model without a token: exit %d, stderr %q; want one line naming HF_TOKEN", code, errOut)
	}
	if code, out, errOut := sieve("rm", "org/stories:stories260K.gguf"); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("rm: exit %d: %s %s", code, out, errOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s still there after rm: %v", path, err)
	}
	if code, out, errOut := sieve("models"); code != 0 || strings.Contains(out, "org/stories") || !strings.Contains(errOut, "no models") {
		t.Errorf("models after rm: exit %d: %q %q", code, out, errOut)
	}
	if code, _, errOut := sieve("rm", "org/stories"); code != 1 || !strings.Contains(errOut, "not in the model cache") {
		t.Errorf("rm of an uncached model: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{{"pull"}, {"pull", "a", "b"}, {"rm"}} {
		if code, _, _ := sieve(args...); code != 2 {
			t.Errorf("sieve %v: exit %d, want 2 (usage)", args, code)
		}
	}
	if code, _, errOut := sieve("pull", "not-a-repo"); code != 1 || !strings.Contains(errOut, "ORG/NAME") {
		t.Errorf("pull of a bad name: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("SIEVE_HOME"), "hub")); err != nil {
		t.Errorf("the cache is not under $SIEVE_HOME/hub: %v", err)
	}
}
