package safetensors

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"sieve/internal/mmap"
	"sieve/model"
)

// File names of a Hugging Face model directory's weights.
const (
	singleFile = "model.safetensors"
	indexFile  = "model.safetensors.index.json"
)

// mappings closes a set of memory-mapped files.
type mappings []*mmap.File

// Close unmaps every file.
func (ms mappings) Close() error {
	var errs []error
	for _, m := range ms {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// shardIndex is model.safetensors.index.json.
type shardIndex struct {
	WeightMap map[string]string `json:"weight_map"`
}

// openTensors maps the directory's weight files, model.safetensors or the
// shards its index names, and returns every tensor by name.
func openTensors(dir string) (mappings, map[string]tensor, error) {
	files := []string{singleFile}
	var idx shardIndex
	indexPath := filepath.Join(dir, indexFile)
	if _, err := os.Stat(indexPath); err == nil {
		if err := readJSON(indexPath, &idx); err != nil {
			return nil, nil, err
		}
		files = files[:0]
		for _, f := range idx.WeightMap {
			if !filepath.IsLocal(f) {
				return nil, nil, fmt.Errorf("%w: %s names shard %q outside the directory", model.ErrBadModel, indexFile, f)
			}
			files = append(files, f)
		}
		slices.Sort(files)
		files = slices.Compact(files)
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%w: %s has an empty weight_map", model.ErrBadModel, indexFile)
		}
	}
	var maps mappings
	all := make(map[string]tensor)
	for _, name := range files {
		m, ts, err := openFile(filepath.Join(dir, name))
		if err != nil {
			maps.Close()
			return nil, nil, err
		}
		maps = append(maps, m)
		for k, t := range ts {
			if prev, dup := all[k]; dup {
				maps.Close()
				return nil, nil, fmt.Errorf("%w: tensor %s in both %s and %s", model.ErrBadModel, k, prev.file, name)
			}
			t.file = name
			all[k] = t
		}
	}
	for k, f := range idx.WeightMap {
		if t, ok := all[k]; !ok || t.file != f {
			maps.Close()
			return nil, nil, fmt.Errorf("%w: %s maps tensor %s to %s, which does not hold it", model.ErrBadModel, indexFile, k, f)
		}
	}
	return maps, all, nil
}
