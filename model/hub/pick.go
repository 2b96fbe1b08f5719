package hub

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// safetensorsIndex names the shards of a sharded safetensors model.
const safetensorsIndex = "model.safetensors.index.json"

// modelPick is what to fetch for a whole-model reference: one GGUF file, or
// the files of a safetensors directory (weights first, config.json last, so
// that a directory with config.json is complete).
type modelPick struct {
	gguf string
	dir  []string
}

// pickModel chooses the model in a repository's file list: its safetensors
// model (with configuration and tokenizer) when it has one at the top
// level, else its only top-level GGUF file.
func pickModel(r Ref, files []string) (modelPick, error) {
	var weights, ggufs []string
	for _, f := range files {
		if strings.Contains(f, "/") {
			continue
		}
		switch {
		case strings.HasSuffix(f, ".safetensors"):
			weights = append(weights, f)
		case strings.HasSuffix(strings.ToLower(f), ".gguf"):
			ggufs = append(ggufs, f)
		}
	}
	if len(weights) > 0 && slices.Contains(files, "config.json") {
		slices.Sort(weights)
		var rest []string
		// Besides the weights: the index, generation defaults and tokenizer.
		for _, f := range [...]string{safetensorsIndex, "generation_config.json",
			"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"} {
			if slices.Contains(files, f) {
				rest = append(rest, f)
			}
		}
		return modelPick{dir: append(append(weights, rest...), "config.json")}, nil
	}
	switch len(ggufs) {
	case 0:
		return modelPick{}, fmt.Errorf("%s: %w: the repository has neither a GGUF file nor config.json with safetensors weights", r, ErrNoModel)
	case 1:
		return modelPick{gguf: ggufs[0]}, nil
	}
	slices.Sort(ggufs)
	shown := ggufs[:min(len(ggufs), 8)]
	more := ""
	if len(ggufs) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(ggufs)-len(shown))
	}
	return modelPick{}, fmt.Errorf("%s: %w: it has %d GGUF files; name one as %s:FILE (%s%s)",
		r, ErrNoModel, len(ggufs), r.Repo, strings.Join(shown, ", "), more)
}

// indexShards reads the shard file names of a safetensors index.
func indexShards(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var shards []string
	for _, s := range idx.WeightMap {
		if !slices.Contains(shards, s) {
			shards = append(shards, s)
		}
	}
	slices.Sort(shards)
	return shards, nil
}
