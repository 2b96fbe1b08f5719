package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"sigs.k8s.io/yaml"
)

// crd is the part of a CustomResourceDefinition that holds its schemas.
type crd struct {
	Kind string `json:"kind"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Schema struct {
				OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// fromCRDs adds to schemas the kinds of want that the
// CustomResourceDefinitions in the YAML stream data define.
func fromCRDs(data []byte, want []GVK, schemas map[GVK]map[string]any) error {
	found := 0
	for i, doc := range splitYAML(data) {
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		var c crd
		if err := json.Unmarshal(js, &c); err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		if c.Kind != "CustomResourceDefinition" {
			continue
		}
		found++
		for _, v := range c.Spec.Versions {
			k := GVK{Group: c.Spec.Group, Version: v.Name, Kind: c.Spec.Names.Kind}
			if !slices.Contains(want, k) {
				continue
			}
			if v.Schema.OpenAPIV3Schema == nil {
				return fmt.Errorf("%s has no openAPIV3Schema", k)
			}
			s, err := strictSchema(v.Schema.OpenAPIV3Schema, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if err := pinKind(s, k); err != nil {
				return err
			}
			schemas[k] = s
		}
	}
	if found == 0 {
		return fmt.Errorf("no CustomResourceDefinition in the file")
	}
	return nil
}

// splitYAML cuts a YAML stream at its "---" document separators.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		if len(bytes.TrimSpace(doc)) > 0 {
			docs = append(docs, doc)
		}
	}
	return docs
}
