// Package safetensors loads Hugging Face Llama-family model directories:
// config.json, weights in model.safetensors (or shards named by
// model.safetensors.index.json), and the tokenizer files beside them.
package safetensors

import (
	"fmt"
	"path/filepath"

	"sieve/model"
)

// LoadDir loads the Hugging Face model directory dir. Weight matrices point
// into the memory-mapped safetensors files, except tensors whose data is
// misaligned for their element type, which are copied (see aligned); Close
// on the model releases the mappings. Q and K projections keep Hugging
// Face's rotate-half row order, so Config.RopeStyle is model.RopeHalf.
func LoadDir(dir string) (*model.Model, error) {
	m, err := loadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", dir, err)
	}
	return m, nil
}

func loadDir(dir string) (*model.Model, error) {
	var hc hfConfig
	if err := readJSON(filepath.Join(dir, "config.json"), &hc); err != nil {
		return nil, err
	}
	cfg, err := hc.modelConfig()
	if err != nil {
		return nil, err
	}
	stops, err := stopTokens(dir, &hc, cfg.VocabSize)
	if err != nil {
		return nil, err
	}
	maps, tensors, err := openTensors(dir)
	if err != nil {
		return nil, err
	}
	w, err := weightReader{tensors}.weights(cfg, hc.keys(), hc.TieWordEmbeddings)
	if err != nil {
		maps.Close()
		return nil, err
	}
	name := dir
	if abs, err := filepath.Abs(dir); err == nil {
		name = abs
	}
	m := &model.Model{
		Name:       filepath.Base(name),
		Format:     "safetensors",
		Config:     cfg,
		Weights:    w,
		StopTokens: stops,
		Closer:     maps,
	}
	if err := loadTokenizer(dir, m); err != nil {
		maps.Close()
		return nil, err
	}
	return m, nil
}
