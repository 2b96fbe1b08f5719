package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Pull downloads the model r names into the cache, unless it is there
// already, and returns its local path: the file r names, or for a whole
// repository its only GGUF file or its safetensors directory (weights,
// config.json, generation_config.json and tokenizer files). It always asks
// the hub which commit the revision is at; Cache.Lookup does not.
func (c *Client) Pull(ctx context.Context, r Ref) (string, error) {
	info, err := c.info(ctx, r)
	if err != nil {
		return "", err
	}
	byName := make(map[string]sibling, len(info.Siblings))
	names := make([]string, 0, len(info.Siblings))
	for _, s := range info.Siblings {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	want, dir := []string{r.File}, false
	if r.File == "" {
		pick, err := pickModel(r, names)
		if err != nil {
			return "", err
		}
		want, dir = pick.dir, pick.gguf == ""
		if pick.gguf != "" {
			want = []string{pick.gguf}
		}
	}
	var last string
	for _, name := range want {
		s, ok := byName[name]
		if !ok {
			return "", fmt.Errorf("%s: %w: no file %q in the repository%s", r.Repo, ErrNotFound, name, similar(name, names))
		}
		if last, err = c.fetchFile(ctx, r, info.Commit, s); err != nil {
			return "", err
		}
	}
	if err := c.Cache.writeRef(r.Repo, r.rev(), info.Commit); err != nil {
		return "", fmt.Errorf("%s: %w", r, err)
	}
	if dir {
		return c.Cache.snapshotDir(r.Repo, info.Commit), nil
	}
	return last, nil
}

// fetchFile makes sure one file of a commit is in the cache, downloading
// it when neither the snapshot nor the blob store has it.
func (c *Client) fetchFile(ctx context.Context, r Ref, commit string, s sibling) (string, error) {
	dst := filepath.Join(c.Cache.snapshotDir(r.Repo, commit), filepath.FromSlash(s.Name))
	size := s.size()
	if st, err := os.Stat(dst); err == nil && st.Mode().IsRegular() && (size < 0 || st.Size() == size) {
		return dst, nil
	}
	blobName, sum := s.blob()
	if !isHex(blobName, 40) && !isHex(blobName, 64) {
		return "", fmt.Errorf("%s: the hub gave %s the content hash %q", r.Repo, s.Name, blobName)
	}
	blob := c.Cache.blobPath(r.Repo, blobName)
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return "", err
	}
	// One download of a blob at a time: another pull of it (another
	// process sharing the cache) finishes or gives up first.
	unlock, err := c.Cache.lock(ctx, r.Repo, blobName)
	if err != nil {
		return "", fmt.Errorf("%s:%s: lock: %w", r.Repo, s.Name, err)
	}
	defer unlock()
	if st, err := os.Stat(blob); err != nil || (size >= 0 && st.Size() != size) {
		u := c.Endpoint + "/" + r.Repo + "/resolve/" + commit + "/" + escapePath(s.Name)
		if err := c.download(ctx, u, blob, download{repo: r.Repo, file: s.Name, size: size, sha256: sum}); err != nil {
			return "", err
		}
	}
	return c.Cache.place(r.Repo, commit, s.Name, blob)
}

// similar suggests the repository's files when a named one is missing.
func similar(name string, names []string) string {
	var ggufs []string
	for _, n := range names {
		if filepath.Ext(n) == filepath.Ext(name) {
			ggufs = append(ggufs, n)
		}
	}
	slices.Sort(ggufs)
	if len(ggufs) == 0 || len(ggufs) > 12 {
		return ""
	}
	return fmt.Sprintf(" (it has %v)", ggufs)
}
