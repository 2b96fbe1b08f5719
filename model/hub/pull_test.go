package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sieve/model/hub/hubtest"
)

func TestPullGGUFIntoHubLayout(t *testing.T) {
	model := pattern(300_000, 1)
	srv, c := fakeHub(t, map[string]*hubtest.Repo{
		"org/tiny-GGUF": {Files: map[string][]byte{"tiny-q8_0.gguf": model, "tiny-f16.gguf": pattern(1000, 2), "README.md": []byte("hi")}},
	})
	r := mustRef(t, "org/tiny-GGUF:tiny-q8_0.gguf")
	path, err := c.Pull(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, path, model)
	repoDir := filepath.Join(c.Cache.Dir, "models--org--tiny-GGUF")
	commit, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(repoDir, "snapshots", string(commit), "tiny-q8_0.gguf"); path != want {
		t.Errorf("path %s, want %s", path, want)
	}
	blob := filepath.Join(repoDir, "blobs", hubtest.SHA256(model))
	if target, err := filepath.EvalSymlinks(path); err != nil || target != blob {
		t.Errorf("snapshot file resolves to %q (%v), want the blob %s", target, err, blob)
	}
	if got, err := c.Cache.Lookup(r); err != nil || got != path {
		t.Errorf("Lookup = %q, %v; want %q", got, err, path)
	}
	before := count(srv.Requests(), "GET /cdn/")
	if again, err := c.Pull(context.Background(), r); err != nil || again != path {
		t.Fatalf("second Pull = %q, %v", again, err)
	}
	if after := count(srv.Requests(), "GET /cdn/"); after != before {
		t.Errorf("a second Pull downloaded again (%d CDN requests, was %d)", after, before)
	}
}

func TestPullResumesAfterDroppedConnection(t *testing.T) {
	model := pattern(1<<20, 3)
	srv, c := fakeHub(t, map[string]*hubtest.Repo{"org/m": {Files: map[string][]byte{"m.gguf": model}}})
	srv.DropAfter("m.gguf", 400_000)
	path, err := c.Pull(context.Background(), mustRef(t, "org/m:m.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, path, model)
	reqs := srv.Requests()
	if n := count(reqs, "GET /cdn/"); n != 2 {
		t.Errorf("%d CDN requests, want 2 (the dropped one and its resumption): %q", n, reqs)
	}
	if last := reqs[len(reqs)-1]; !strings.HasSuffix(last, "bytes=400000-") {
		t.Errorf("the resumed request was %q, want a Range from byte 400000", last)
	}
}

func TestPullResumesPartialFileOfEarlierRun(t *testing.T) {
	model := pattern(500_000, 4)
	srv, c := fakeHub(t, map[string]*hubtest.Repo{"org/m": {Files: map[string][]byte{"m.gguf": model}}})
	srv.DropAfter("m.gguf", 123_456)
	c.Attempts = 1
	r := mustRef(t, "org/m:m.gguf")
	if _, err := c.Pull(context.Background(), r); err == nil {
		t.Fatal("Pull succeeded through a dropped connection with one attempt")
	}
	part := filepath.Join(c.Cache.Dir, "models--org--m", "blobs", hubtest.SHA256(model)+".incomplete")
	if st, err := os.Stat(part); err != nil || st.Size() != 123_456 {
		t.Fatalf("partial file %v size %v, want 123456 bytes kept", err, st)
	}
	if _, err := c.Cache.Lookup(r); !errors.Is(err, ErrNotCached) {
		t.Errorf("Lookup of a partial download: %v, want ErrNotCached", err)
	}
	path, err := c.Pull(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, path, model)
	if reqs := srv.Requests(); !strings.HasSuffix(reqs[len(reqs)-1], "bytes=123456-") {
		t.Errorf("the second run did not resume: last request %q", reqs[len(reqs)-1])
	}
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the .incomplete file is still there: %v", err)
	}
}

func TestPullChecksumMismatchLeavesNothing(t *testing.T) {
	model := pattern(200_000, 5)
	srv, c := fakeHub(t, map[string]*hubtest.Repo{"org/m": {Files: map[string][]byte{"m.gguf": model}}})
	srv.Corrupt("m.gguf")
	r := mustRef(t, "org/m:m.gguf")
	_, err := c.Pull(context.Background(), r)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	if !strings.Contains(err.Error(), "m.gguf") || !strings.Contains(err.Error(), "deleted") {
		t.Errorf("error %q does not name the file and say it was deleted", err)
	}
	blobs, _ := os.ReadDir(filepath.Join(c.Cache.Dir, "models--org--m", "blobs"))
	if len(blobs) != 0 {
		t.Errorf("blobs left after a checksum mismatch: %v", blobs)
	}
	if _, err := c.Cache.Lookup(r); !errors.Is(err, ErrNotCached) {
		t.Errorf("Lookup after a mismatch: %v, want ErrNotCached", err)
	}
	if entries, _ := c.Cache.List(); len(entries) != 0 {
		t.Errorf("List after a mismatch: %v", entries)
	}
}

func TestPullSafetensorsDirectory(t *testing.T) {
	files := map[string][]byte{
		"config.json":            []byte(`{"model_type":"llama"}`),
		"generation_config.json": []byte(`{"eos_token_id":2}`),
		"model.safetensors":      pattern(100_000, 6),
		"tokenizer.json":         []byte(`{"model":{}}`),
		"tokenizer_config.json":  []byte(`{}`),
		"README.md":              []byte("readme"),
		"onnx/model.onnx":        pattern(1000, 7),
	}
	srv, c := fakeHub(t, map[string]*hubtest.Repo{"org/llama": {Files: files}})
	r := mustRef(t, "org/llama")
	dir, err := c.Pull(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		sameFile(t, filepath.Join(dir, name), files[name])
	}
	for _, name := range []string{"README.md", "onnx/model.onnx"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was downloaded; only the model's files should be", name)
		}
	}
	if got, err := c.Cache.Lookup(r); err != nil || got != dir {
		t.Errorf("Lookup = %q, %v; want %q", got, err, dir)
	}
	if n := count(srv.Requests(), "GET /org/llama/resolve/"); n != 5 {
		t.Errorf("%d resolve requests, want 5", n)
	}
}

func TestPullShardedSafetensors(t *testing.T) {
	files := map[string][]byte{
		"config.json":                      []byte(`{}`),
		"model-00001-of-00002.safetensors": pattern(5000, 8),
		"model-00002-of-00002.safetensors": pattern(4000, 9),
		"model.safetensors.index.json":     []byte(`{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`),
		"tokenizer.model":                  []byte("sp"),
	}
	_, c := fakeHub(t, map[string]*hubtest.Repo{"org/big": {Files: files}})
	dir, err := c.Pull(context.Background(), mustRef(t, "org/big"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		sameFile(t, filepath.Join(dir, name), data)
	}
	if !dirComplete(dir) {
		t.Error("the pulled directory does not count as complete")
	}
	os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors"))
	if dirComplete(dir) {
		t.Error("a directory missing a shard counts as complete")
	}
}

func TestPullWholeRepoPicksItsGGUF(t *testing.T) {
	one, two := pattern(2000, 10), pattern(3000, 11)
	_, c := fakeHub(t, map[string]*hubtest.Repo{
		"org/one":  {Files: map[string][]byte{"only.gguf": one, "README.md": nil}},
		"org/two":  {Files: map[string][]byte{"a-Q8_0.gguf": two, "a-F16.gguf": two}},
		"org/none": {Files: map[string][]byte{"README.md": []byte("x")}},
	})
	path, err := c.Pull(context.Background(), mustRef(t, "org/one"))
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, path, one)
	_, err = c.Pull(context.Background(), mustRef(t, "org/two"))
	if !errors.Is(err, ErrNoModel) || !strings.Contains(err.Error(), "a-Q8_0.gguf") || !strings.Contains(err.Error(), "org/two:FILE") {
		t.Errorf("several GGUFs: %v; want ErrNoModel listing them and the REPO:FILE form", err)
	}
	if _, err := c.Pull(context.Background(), mustRef(t, "org/none")); !errors.Is(err, ErrNoModel) {
		t.Errorf("no model: %v, want ErrNoModel", err)
	}
}

func TestPullErrors(t *testing.T) {
	model := pattern(1000, 12)
	srv, c := fakeHub(t, map[string]*hubtest.Repo{
		"org/private": {Files: map[string][]byte{"p.gguf": model}, Token: "secret"},
		"org/gated":   {Files: map[string][]byte{"g.gguf": model}, Gated: true},
		"org/open":    {Files: map[string][]byte{"o.gguf": model}},
	})
	tests := []struct {
		name, ref, token string
		want             error
		text             string
	}{
		{"private without token", "org/private:p.gguf", "", ErrUnauthorized, "HF_TOKEN"},
		{"private with wrong token", "org/private:p.gguf", "wrong", ErrUnauthorized, "did not accept HF_TOKEN"},
		{"gated", "org/gated:g.gguf", "", ErrGated, "huggingface.co/org/gated"},
		{"missing repo", "org/nothing:x.gguf", "", ErrUnauthorized, "does not exist"},
		{"missing file", "org/open:nope.gguf", "", ErrNotFound, "o.gguf"},
		{"missing revision", "org/open@v9:o.gguf", "", ErrNotFound, "v9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := *c
			cc.Token = tt.token
			_, err := cc.Pull(context.Background(), mustRef(t, tt.ref))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v; want %v, one line, mentioning %q", err, tt.want, tt.text)
			}
		})
	}
	cc := *c
	cc.Token = "secret"
	if _, err := cc.Pull(context.Background(), mustRef(t, "org/private:p.gguf")); err != nil {
		t.Errorf("with the right token: %v", err)
	}
	srv.Close()
	if _, err := c.Pull(context.Background(), mustRef(t, "org/open:o.gguf")); !errors.Is(err, ErrUnreachable) {
		t.Errorf("server gone: %v, want ErrUnreachable", err)
	}
}

func TestPullStopsWhenContextEnds(t *testing.T) {
	model := pattern(400_000, 13)
	srv, c := fakeHub(t, map[string]*hubtest.Repo{"org/m": {Files: map[string][]byte{"m.gguf": model}}})
	srv.Stall("m.gguf")
	ctx, cancel := context.WithCancel(context.Background())
	c.Progress = &cancelAt{at: int64(len(model) / 2), cancel: cancel}
	_, err := c.Pull(ctx, mustRef(t, "org/m:m.gguf"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	part := filepath.Join(c.Cache.Dir, "models--org--m", "blobs", hubtest.SHA256(model)+".incomplete")
	if st, err := os.Stat(part); err != nil || st.Size() != int64(len(model)/2) {
		t.Errorf("partial file after cancel: %v %v, want half the file kept for resuming", st, err)
	}
}

// cancelAt is a Progress that cancels once at bytes are done.
type cancelAt struct {
	done, at int64
	cancel   func()
}

func (p *cancelAt) Start(_ string, _, done int64) { p.done = done }
func (p *cancelAt) Finish()                       {}
func (p *cancelAt) Advance(n int64) {
	if p.done += n; p.done >= p.at {
		p.cancel()
	}
}

func TestConcurrentPullsDownloadOnce(t *testing.T) {
	model := pattern(2<<20, 14)
	srv, c := fakeHub(t, map[string]*hubtest.Repo{"org/m": {Files: map[string][]byte{"m.gguf": model}}})
	r := mustRef(t, "org/m:m.gguf")
	const n = 4
	paths, errs := make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := *c // separate clients sharing one cache, as separate processes would
			paths[i], errs[i] = cc.Pull(context.Background(), r)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("pull %d: %v", i, errs[i])
		}
		sameFile(t, paths[i], model)
	}
	if got := count(srv.Requests(), "GET /cdn/"); got != 1 {
		t.Errorf("%d downloads for %d concurrent pulls of one file, want 1", got, n)
	}
}

func TestOfflineClientMakesNoRequests(t *testing.T) {
	srv, c := fakeHub(t, map[string]*hubtest.Repo{"org/m": {Files: map[string][]byte{"m.gguf": pattern(100, 15)}}})
	c.Offline = true
	if _, err := c.Pull(context.Background(), mustRef(t, "org/m:m.gguf")); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Errorf("offline Pull: %v, want ErrUnreachable naming HF_HUB_OFFLINE", err)
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("an offline client sent %q", reqs)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("SIEVE_HOME", t.TempDir())
	t.Setenv("HF_ENDPOINT", "http://mirror.example/")
	t.Setenv("HF_TOKEN", "hf_abc")
	for _, tt := range []struct {
		env  string
		want bool
	}{{"", false}, {"0", false}, {"false", false}, {"1", true}, {"true", true}} {
		t.Setenv("HF_HUB_OFFLINE", tt.env)
		c, err := FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if c.Endpoint != "http://mirror.example" || c.Token != "hf_abc" || c.Offline != tt.want {
			t.Errorf("HF_HUB_OFFLINE=%q: endpoint %q token %q offline %v; want the mirror without its slash, the token, offline %v",
				tt.env, c.Endpoint, c.Token, c.Offline, tt.want)
		}
	}
}
