package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sieve/model/hub/hubtest"
)

func TestDefaultCacheDir(t *testing.T) {
	home := t.TempDir()
	existingHF := filepath.Join(home, "hf")
	if err := os.MkdirAll(filepath.Join(existingHF, "hub"), 0o755); err != nil {
		t.Fatal(err)
	}
	userHubCache := filepath.Join(home, ".cache", "huggingface", "hub")
	tests := []struct {
		name                                     string
		sieveHome, hubCache, hfHome, xdg, makeHF string
		want                                     string
	}{
		{"SIEVE_HOME wins", "/s", "/h", existingHF, "", "", filepath.Join("/s", "hub")},
		{"HF_HUB_CACHE", "", "/h", existingHF, "", "", "/h"},
		{"existing HF_HOME/hub", "", "", existingHF, "", "", filepath.Join(existingHF, "hub")},
		{"HF_HOME without hub falls through", "", "", filepath.Join(home, "nohub"), filepath.Join(home, "xdg"), "", filepath.Join(home, "xdg", "sieve", "hub")},
		{"existing ~/.cache/huggingface/hub", "", "", "", "", userHubCache, userHubCache},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("SIEVE_HOME", tt.sieveHome)
			t.Setenv("HF_HUB_CACHE", tt.hubCache)
			t.Setenv("HF_HOME", tt.hfHome)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			if tt.makeHF != "" {
				if err := os.MkdirAll(tt.makeHF, 0o755); err != nil {
					t.Fatal(err)
				}
				defer os.RemoveAll(filepath.Join(home, ".cache"))
			}
			got, err := DefaultCacheDir()
			if err != nil || got != tt.want {
				t.Errorf("DefaultCacheDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestListAndRemove(t *testing.T) {
	q8, f16 := pattern(5000, 20), pattern(9000, 21)
	_, c := fakeHub(t, map[string]*hubtest.Repo{
		"org/gguf":  {Files: map[string][]byte{"m-q8_0.gguf": q8, "m-f16.gguf": f16}},
		"org/llama": {Files: map[string][]byte{"config.json": []byte("{}"), "model.safetensors": pattern(3000, 22)}},
	})
	ctx := context.Background()
	for _, s := range []string{"org/gguf:m-q8_0.gguf", "org/gguf:m-f16.gguf", "org/llama"} {
		if _, err := c.Pull(ctx, mustRef(t, s)); err != nil {
			t.Fatal(err)
		}
	}
	// A download in progress and a stray snapshot file are not models.
	os.WriteFile(filepath.Join(c.Cache.Dir, "models--org--gguf", "blobs", "x.incomplete"), []byte("part"), 0o644)
	entries, err := c.Cache.List()
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ref  string
		size int64
	}
	var got []row
	for _, e := range entries {
		got = append(got, row{e.Ref().String(), e.Size})
		if _, err := os.Stat(e.Path); err != nil {
			t.Errorf("%s: path %s: %v", e.Ref(), e.Path, err)
		}
	}
	want := []row{{"org/gguf:m-f16.gguf", 9000}, {"org/gguf:m-q8_0.gguf", 5000}, {"org/llama", 3002}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("List = %v, want %v", got, want)
	}

	freed, err := c.Cache.Remove(mustRef(t, "org/gguf:m-q8_0.gguf"))
	if err != nil || freed != 5000 {
		t.Fatalf("Remove file = %d, %v; want 5000 bytes freed", freed, err)
	}
	if _, err := os.Stat(filepath.Join(c.Cache.Dir, "models--org--gguf", "blobs", hubtest.SHA256(q8))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the removed file's blob is still there: %v", err)
	}
	if _, err := c.Cache.Lookup(mustRef(t, "org/gguf:m-f16.gguf")); err != nil {
		t.Errorf("removing one file took the other: %v", err)
	}
	if _, err := c.Cache.Remove(mustRef(t, "org/gguf:m-q8_0.gguf")); !errors.Is(err, ErrNotCached) {
		t.Errorf("removing twice: %v, want ErrNotCached", err)
	}
	if freed, err := c.Cache.Remove(mustRef(t, "org/llama")); err != nil || freed != 3002 {
		t.Errorf("Remove repo = %d, %v; want 3002", freed, err)
	}
	if _, err := os.Stat(filepath.Join(c.Cache.Dir, "models--org--llama")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the removed repository's directory is still there: %v", err)
	}
	if _, err := c.Cache.Remove(mustRef(t, "org/never")); !errors.Is(err, ErrNotCached) {
		t.Errorf("removing an uncached repo: %v, want ErrNotCached", err)
	}
	entries, _ = c.Cache.List()
	if len(entries) != 1 || entries[0].File != "m-f16.gguf" {
		t.Errorf("List after removals = %v, want only m-f16.gguf", entries)
	}
}

func TestListReadsHubCacheWithoutLinks(t *testing.T) {
	// Where the file system has no symbolic links the hub's own client
	// stores files in the snapshot directly.
	dir := t.TempDir()
	snap := filepath.Join(dir, "models--a--b", "snapshots", "0123456789abcdef0123456789abcdef01234567")
	os.MkdirAll(snap, 0o755)
	os.WriteFile(filepath.Join(snap, "x.gguf"), []byte("GGUF...."), 0o644)
	os.WriteFile(filepath.Join(dir, "models--a--b", "refs"), nil, 0o644) // not a directory: no refs
	entries, err := Cache{Dir: dir}.List()
	if err != nil || len(entries) != 1 || entries[0].Repo != "a/b" || entries[0].Size != 8 {
		t.Errorf("List = %v, %v; want a/b:x.gguf of 8 bytes", entries, err)
	}
	if _, err := (Cache{Dir: dir}).Remove(mustRef(t, "a/b:x.gguf")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "models--a--b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("repository directory left after its last file went: %v", err)
	}
}
