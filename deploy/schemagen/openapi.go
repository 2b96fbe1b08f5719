package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// fromOpenAPI adds to schemas the kinds of want that the Kubernetes OpenAPI
// v2 spec in data defines, each with its $refs inlined.
func fromOpenAPI(data []byte, want []GVK, schemas map[GVK]map[string]any) error {
	var spec struct {
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("parse OpenAPI spec: %w", err)
	}
	if len(spec.Definitions) == 0 {
		return fmt.Errorf("the OpenAPI spec has no definitions")
	}
	d := &definitions{raw: spec.Definitions, resolving: map[string]bool{}}
	for name, raw := range spec.Definitions {
		var meta struct {
			GVKs []GVK `json:"x-kubernetes-group-version-kind"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return fmt.Errorf("definition %s: %w", name, err)
		}
		for _, g := range meta.GVKs {
			for _, k := range want {
				if g != k {
					continue
				}
				s, err := d.resolve("#/definitions/" + name)
				if err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				if err := pinKind(s, k); err != nil {
					return err
				}
				schemas[k] = s
			}
		}
	}
	return nil
}

// definitions inlines the spec's "#/definitions/NAME" references.
type definitions struct {
	raw       map[string]json.RawMessage
	resolving map[string]bool // names on the current path, to cut cycles
}

// resolve returns a fresh converted copy of the definition ref names. A
// reference back into a definition being resolved (a recursive type) is
// left open as {}.
func (d *definitions) resolve(ref string) (map[string]any, error) {
	name, ok := strings.CutPrefix(ref, "#/definitions/")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only #/definitions/ references are supported", ref)
	}
	raw, ok := d.raw[name]
	if !ok {
		return nil, fmt.Errorf("$ref %q: no such definition", ref)
	}
	if d.resolving[name] {
		return map[string]any{}, nil
	}
	d.resolving[name] = true
	defer delete(d.resolving, name)
	var node map[string]any
	if err := json.Unmarshal(raw, &node); err != nil {
		return nil, fmt.Errorf("definition %s: %w", name, err)
	}
	s, err := strictSchema(node, d.resolve)
	if err != nil {
		return nil, fmt.Errorf("definition %s: %w", name, err)
	}
	return s, nil
}
