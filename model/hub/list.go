package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Entry is one cached model: a GGUF file, or a safetensors directory (File
// empty).
type Entry struct {
	Repo   string // "ORG/NAME"
	File   string // path inside the repository; empty for a directory
	Commit string
	Size   int64  // bytes (a directory: all its files but GGUFs)
	Path   string // local path
}

// Ref is the entry as a reference to pull or remove.
func (e Entry) Ref() Ref { return Ref{Repo: e.Repo, File: e.File} }

// List returns the cached models, sorted by repository and file. Snapshot
// files that are neither GGUF nor part of a complete safetensors model
// (a config.json another tool fetched, say) are not listed.
func (c Cache) List() ([]Entry, error) {
	repos, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range repos {
		repo, ok := repoName(d.Name())
		if !ok || !d.IsDir() {
			continue
		}
		snaps, err := os.ReadDir(filepath.Join(c.Dir, d.Name(), "snapshots"))
		if err != nil {
			continue
		}
		for _, s := range snaps {
			if s.IsDir() {
				out = append(out, snapshotEntries(repo, s.Name(), filepath.Join(c.Dir, d.Name(), "snapshots", s.Name()))...)
			}
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return strings.Compare(a.Repo+"\x00"+a.File+"\x00"+a.Commit, b.Repo+"\x00"+b.File+"\x00"+b.Commit)
	})
	return out, nil
}

// snapshotEntries lists the models of one snapshot directory.
func snapshotEntries(repo, commit, snap string) []Entry {
	files, err := snapshotFiles(snap)
	if err != nil {
		return nil
	}
	var out []Entry
	var dirSize int64
	for _, f := range files {
		p := filepath.Join(snap, filepath.FromSlash(f))
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if strings.HasSuffix(strings.ToLower(f), ".gguf") {
			out = append(out, Entry{Repo: repo, File: f, Commit: commit, Size: st.Size(), Path: p})
		} else {
			dirSize += st.Size()
		}
	}
	if dirComplete(snap) {
		out = append(out, Entry{Repo: repo, Commit: commit, Size: dirSize, Path: snap})
	}
	return out
}

// repoName reads "models--ORG--NAME" back as "ORG/NAME".
func repoName(dir string) (string, bool) {
	rest, ok := strings.CutPrefix(dir, repoDirPrefix)
	if !ok {
		return "", false
	}
	org, name, ok := strings.Cut(rest, "--")
	repo := org + "/" + name
	return repo, ok && checkRepo(repo) == nil
}

// Remove deletes a cached model and returns the bytes it freed: with a
// file, that file from every snapshot (and its blob, unless another
// snapshot still uses it); without, the whole repository. It fails with
// ErrNotCached when there is nothing to remove.
func (c Cache) Remove(r Ref) (int64, error) {
	dir := c.repoDir(r.Repo)
	if _, err := os.Stat(dir); err != nil {
		return 0, fmt.Errorf("%s: %w", r, ErrNotCached)
	}
	if r.File == "" {
		size := treeSize(filepath.Join(dir, "blobs")) + treeSize(filepath.Join(dir, "snapshots"))
		if err := os.RemoveAll(dir); err != nil {
			return 0, err
		}
		return size, nil
	}
	snaps, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	var freed int64
	found := false
	for _, s := range snaps {
		snap := filepath.Join(dir, "snapshots", s.Name())
		p := filepath.Join(snap, filepath.FromSlash(r.File))
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		found = true
		if st.Mode()&fs.ModeSymlink == 0 {
			freed += st.Size()
		} else if target, err := filepath.EvalSymlinks(p); err == nil {
			if err := os.Remove(p); err != nil {
				return freed, err
			}
			if !c.linked(r.Repo, target) {
				if bst, err := os.Stat(target); err == nil {
					freed += bst.Size()
				}
				os.Remove(target)
			}
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return freed, err
		}
		pruneEmpty(filepath.Dir(p), filepath.Join(dir, "snapshots"))
	}
	if !found {
		return 0, fmt.Errorf("%s: %w", r, ErrNotCached)
	}
	if rest, _ := os.ReadDir(filepath.Join(dir, "snapshots")); len(rest) == 0 {
		os.RemoveAll(dir)
	}
	return freed, nil
}

// linked reports whether any snapshot file of repo still points at blob.
func (c Cache) linked(repo, blob string) bool {
	found := false
	filepath.WalkDir(filepath.Join(c.repoDir(repo), "snapshots"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			if t, err := filepath.EvalSymlinks(p); err == nil && t == blob {
				found = true
				return filepath.SkipAll
			}
		}
		return nil
	})
	return found
}

// pruneEmpty removes dir and its empty parents up to and excluding stop.
func pruneEmpty(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// treeSize is the total size of the regular files under dir.
func treeSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
