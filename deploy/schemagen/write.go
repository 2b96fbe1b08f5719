package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// writeAll writes the schema of each kind of want into dir.
func writeAll(dir string, want []GVK, schemas map[GVK]map[string]any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, k := range want {
		if err := writeSchema(filepath.Join(dir, k.FileName()), schemas[k]); err != nil {
			return err
		}
	}
	return nil
}

// writeSchema writes s as indented JSON with a trailing newline.
func writeSchema(path string, s map[string]any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
