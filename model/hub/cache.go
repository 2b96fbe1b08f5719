package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Cache is a model cache laid out as the Hugging Face hub lays out its own,
// so that either can use the other's downloads:
//
//	models--ORG--NAME/blobs/HASH                       file contents, by sha256 (or git hash)
//	models--ORG--NAME/snapshots/COMMIT/FILE            a link to ../../blobs/HASH
//	models--ORG--NAME/refs/REVISION                    the commit REVISION last resolved to
//
// A download in progress is blobs/HASH.incomplete.
type Cache struct {
	Dir string
}

// repoDirPrefix starts every repository directory of a cache.
const repoDirPrefix = "models--"

// DefaultCacheDir picks the cache directory: $SIEVE_HOME/hub when
// SIEVE_HOME is set; else an existing Hugging Face hub cache ($HF_HUB_CACHE,
// $HF_HOME/hub, or ~/.cache/huggingface/hub); else sieve/hub under the
// user's cache directory.
func DefaultCacheDir() (string, error) {
	if home := os.Getenv("SIEVE_HOME"); home != "" {
		return filepath.Join(home, "hub"), nil
	}
	if dir := os.Getenv("HF_HUB_CACHE"); dir != "" {
		return dir, nil
	}
	var candidates []string
	if home := os.Getenv("HF_HOME"); home != "" {
		candidates = append(candidates, filepath.Join(home, "hub"))
	}
	if xdg := os.Getenv("XDG_CACHE_HOME"); xdg != "" {
		candidates = append(candidates, filepath.Join(xdg, "huggingface", "hub"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".cache", "huggingface", "hub"))
	}
	for _, dir := range candidates {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir, nil
		}
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set SIEVE_HOME): %w", err)
	}
	return filepath.Join(base, "sieve", "hub"), nil
}

// repoDir is the directory of one repository.
func (c Cache) repoDir(repo string) string {
	return filepath.Join(c.Dir, repoDirPrefix+strings.ReplaceAll(repo, "/", "--"))
}

// snapshotDir is the directory of one commit of a repository.
func (c Cache) snapshotDir(repo, commit string) string {
	return filepath.Join(c.repoDir(repo), "snapshots", commit)
}

// blobPath is where the contents with the given hash are kept.
func (c Cache) blobPath(repo, hash string) string {
	return filepath.Join(c.repoDir(repo), "blobs", hash)
}

// lock takes the lock on one blob of a repository, kept where the hub's
// own client keeps its locks (.locks/models--ORG--NAME/HASH.lock), so that
// both serialise their downloads of it. Lock files stay behind: removing
// one while another process waits on it would let a third take a second
// lock.
func (c Cache) lock(ctx context.Context, repo, hash string) (func(), error) {
	dir := filepath.Join(c.Dir, ".locks", filepath.Base(c.repoDir(repo)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return lockFile(ctx, filepath.Join(dir, hash+".lock"))
}

// commit returns the commit a revision stands for: the revision itself
// when it is a commit hash, else what refs/REVISION last recorded.
func (c Cache) commit(repo, rev string) (string, bool) {
	if isHex(rev, 40) {
		return rev, true
	}
	b, err := os.ReadFile(filepath.Join(c.repoDir(repo), "refs", filepath.FromSlash(rev)))
	commit := strings.TrimSpace(string(b))
	return commit, err == nil && isHex(commit, 40)
}

// writeRef records the commit a branch or tag resolved to.
func (c Cache) writeRef(repo, rev, commit string) error {
	if rev == commit {
		return nil
	}
	p := filepath.Join(c.repoDir(repo), "refs", filepath.FromSlash(rev))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(p, []byte(commit))
}

// Lookup returns the local path of a cached model without asking the hub:
// the file r names, or for a whole-model reference the snapshot's only
// GGUF file or its safetensors directory. It fails with ErrNotCached.
func (c Cache) Lookup(r Ref) (string, error) {
	commit, ok := c.commit(r.Repo, r.rev())
	if !ok {
		return "", fmt.Errorf("%s: %w", r, ErrNotCached)
	}
	snap := c.snapshotDir(r.Repo, commit)
	if r.File != "" {
		p := filepath.Join(snap, filepath.FromSlash(r.File))
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			return "", fmt.Errorf("%s: %w", r, ErrNotCached)
		}
		return p, nil
	}
	files, err := snapshotFiles(snap)
	if err != nil {
		return "", fmt.Errorf("%s: %w", r, ErrNotCached)
	}
	pick, err := pickModel(r, files)
	if err != nil {
		return "", fmt.Errorf("%s: %w", r, ErrNotCached)
	}
	if pick.gguf != "" {
		return filepath.Join(snap, filepath.FromSlash(pick.gguf)), nil
	}
	if !dirComplete(snap) {
		return "", fmt.Errorf("%s: %w", r, ErrNotCached)
	}
	return snap, nil
}

// place links snapshots/COMMIT/FILE to a finished blob, or moves the blob
// there where the file system has no symbolic links.
func (c Cache) place(repo, commit, file, blob string) (string, error) {
	dst := filepath.Join(c.snapshotDir(repo, commit), filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	rel, err := filepath.Rel(filepath.Dir(dst), blob)
	if err != nil {
		return "", err
	}
	os.Remove(dst)
	if err := os.Symlink(rel, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return dst, nil // placed meanwhile by another client
		}
		if err := os.Rename(blob, dst); err != nil {
			return "", fmt.Errorf("place %s in the cache: %w", file, err)
		}
	}
	return dst, nil
}

// snapshotFiles lists the files of a snapshot as slash-separated paths.
func snapshotFiles(snap string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(snap, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(snap, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	return files, err
}

// dirComplete reports whether a snapshot holds a loadable safetensors
// model: config.json, and model.safetensors or every shard its index names.
func dirComplete(snap string) bool {
	exists := func(name string) bool {
		st, err := os.Stat(filepath.Join(snap, name))
		return err == nil && st.Mode().IsRegular()
	}
	if !exists("config.json") {
		return false
	}
	if exists("model.safetensors") {
		return true
	}
	shards, err := indexShards(filepath.Join(snap, safetensorsIndex))
	if err != nil || len(shards) == 0 {
		return false
	}
	for _, s := range shards {
		if !exists(s) {
			return false
		}
	}
	return true
}

// writeFileAtomic writes data to a temporary file beside p and renames it
// into place.
func writeFileAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// isHex reports whether s is n lowercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
