package safetensors

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sieve/model"
)

// copyDir copies the regular files of src into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// patchFile rewrites the bytes of the file at path.
func patchFile(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tensorEntry returns a header entry of a decoded safetensors header.
func tensorEntry(h map[string]any, name string) map[string]any {
	return h[name].(map[string]any)
}

func TestBadDirectories(t *testing.T) {
	ref := loadStories(t)
	single := writeFixture(t, ref, "F32", 1)
	sharded := writeFixture(t, ref, "F32", 2)
	const q0 = "model.layers.0.self_attn.q_proj.weight"
	weights := func(dir string) string { return filepath.Join(dir, "model.safetensors") }
	header := func(edit func(h map[string]any)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { rewriteFile(t, weights(dir), 0, edit) }
	}
	config := func(edit func(c map[string]any)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { editJSON(t, filepath.Join(dir, "config.json"), edit) }
	}
	tests := []struct {
		name     string
		base     string
		mutate   func(t *testing.T, dir string)
		want     error
		notExist bool // the error must also match os.ErrNotExist
	}{
		{"truncated by one byte", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func(b []byte) []byte { return b[:len(b)-1] })
		}, model.ErrBadModel, false},
		{"trailing bytes", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func(b []byte) []byte { return append(b, 0, 0, 0, 0) })
		}, model.ErrBadModel, false},
		{"truncated in the header", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func(b []byte) []byte { return b[:100] })
		}, model.ErrBadModel, false},
		{"shorter than the length", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func(b []byte) []byte { return b[:5] })
		}, model.ErrBadModel, false},
		{"empty file", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func([]byte) []byte { return nil })
		}, model.ErrBadModel, false},
		{"header length past EOF", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func(b []byte) []byte {
				binary.LittleEndian.PutUint64(b, uint64(len(b)))
				return b
			})
		}, model.ErrBadModel, false},
		{"header length 2^63", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func(b []byte) []byte {
				binary.LittleEndian.PutUint64(b, 1<<63)
				return b
			})
		}, model.ErrBadModel, false},
		{"header not JSON", single, func(t *testing.T, dir string) {
			patchFile(t, weights(dir), func(b []byte) []byte { b[8] = '['; return b })
		}, model.ErrBadModel, false},
		{"offsets past the data", single, header(func(h map[string]any) {
			e := tensorEntry(h, q0)
			e["data_offsets"] = []any{1 << 40, 1<<40 + 64*64*4}
		}), model.ErrBadModel, false},
		{"end offset past the data", single, header(func(h map[string]any) {
			e := tensorEntry(h, "model.norm.weight")
			begin := e["data_offsets"].([]any)[0].(float64)
			e["data_offsets"] = []any{begin, begin + 1e9}
			e["shape"] = []any{250000000}
		}), model.ErrBadModel, false},
		{"reversed offsets", single, header(func(h map[string]any) {
			e := tensorEntry(h, q0)
			o := e["data_offsets"].([]any)
			e["data_offsets"] = []any{o[1], o[0]}
		}), model.ErrBadModel, false},
		{"negative offset", single, header(func(h map[string]any) {
			tensorEntry(h, q0)["data_offsets"] = []any{-4, 0}
		}), model.ErrBadModel, false},
		{"size not matching shape", single, header(func(h map[string]any) {
			tensorEntry(h, q0)["shape"] = []any{64, 63}
		}), model.ErrBadModel, false},
		{"wrong shape", single, header(func(h map[string]any) {
			e := tensorEntry(h, "model.layers.1.mlp.up_proj.weight")
			e["shape"] = []any{64, 172} // same size, transposed
		}), model.ErrBadModel, false},
		{"negative dimension", single, header(func(h map[string]any) {
			tensorEntry(h, q0)["shape"] = []any{-64, -64}
		}), model.ErrBadModel, false},
		{"unknown dtype", single, header(func(h map[string]any) {
			e := tensorEntry(h, q0)
			e["dtype"] = "I8"
			e["shape"] = []any{64, 256}
		}), model.ErrUnsupported, false},
		{"missing tensor", single, header(func(h map[string]any) {
			delete(h, "model.layers.4.mlp.down_proj.weight")
		}), model.ErrBadModel, false},
		{"missing weights", single, func(t *testing.T, dir string) {
			os.Remove(weights(dir))
		}, model.ErrBadModel, true},
		{"missing config.json", single, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "config.json"))
		}, model.ErrBadModel, true},
		{"config not JSON", single, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "config.json"), "{")
		}, model.ErrBadModel, false},
		{"unknown architecture", single, config(func(c map[string]any) {
			c["model_type"] = "gpt2"
			c["architectures"] = []string{"GPT2LMHeadModel"}
		}), model.ErrUnsupported, false},
		{"vocab not matching embedding", single, config(func(c map[string]any) { c["vocab_size"] = 513 }), model.ErrBadModel, false},
		{"more layers than stored", single, config(func(c map[string]any) { c["num_hidden_layers"] = 6 }), model.ErrBadModel, false},
		{"fewer layers than stored", single, config(func(c map[string]any) { c["num_hidden_layers"] = 4 }), model.ErrBadModel, false},
		{"head width not matching the tensors", single, config(func(c map[string]any) { c["head_dim"] = 16 }), model.ErrBadModel, false},
		{"eos outside the vocabulary", single, config(func(c map[string]any) { c["eos_token_id"] = 512 }), model.ErrBadModel, false},
		{"bad generation config", single, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "generation_config.json"), `{"eos_token_id": "x"}`)
		}, model.ErrBadModel, false},
		{"missing shard", sharded, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors"))
		}, model.ErrBadModel, true},
		{"index naming a shard outside", sharded, func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, indexFile), func(v map[string]any) {
				v["weight_map"].(map[string]any)["model.norm.weight"] = "../model.safetensors"
			})
		}, model.ErrBadModel, false},
		{"index naming the wrong shard", sharded, func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, indexFile), func(v map[string]any) {
				wm := v["weight_map"].(map[string]any)
				if wm["model.norm.weight"] == "model-00001-of-00002.safetensors" {
					wm["model.norm.weight"] = "model-00002-of-00002.safetensors"
				} else {
					wm["model.norm.weight"] = "model-00001-of-00002.safetensors"
				}
			})
		}, model.ErrBadModel, false},
		{"tensor in two shards", sharded, func(t *testing.T, dir string) {
			rewriteFile(t, filepath.Join(dir, "model-00001-of-00002.safetensors"), 0, func(h map[string]any) {
				h["model.norm.weight"] = map[string]any{"dtype": "F32", "shape": []any{0}, "data_offsets": []any{0, 0}}
			})
		}, model.ErrBadModel, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, tt.base)
			tt.mutate(t, dir)
			m, err := LoadDir(dir)
			if err == nil {
				m.Close()
				t.Fatal("LoadDir succeeded")
			}
			t.Log(err)
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if tt.notExist && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("error %v does not match os.ErrNotExist", err)
			}
		})
	}
}
