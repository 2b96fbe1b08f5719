package main

import (
	"fmt"
	"strings"
)

// resolver returns the converted schema a "$ref" names.
type resolver func(ref string) (map[string]any, error)

// strictSchema rewrites one schema node, in place, into the form kubeconform
// validates with: $refs inlined (by resolve), objects with properties closed
// to unknown fields unless x-kubernetes-preserve-unknown-fields says
// otherwise, int-or-string as a oneOf, null allowed where a field is
// optional, and descriptions and x-kubernetes-* extensions dropped to keep
// the files small. resolve may be nil for schemas without $refs.
func strictSchema(node map[string]any, resolve resolver) (map[string]any, error) {
	if ref, ok := node["$ref"].(string); ok {
		if resolve == nil {
			return nil, fmt.Errorf("$ref %q with no definitions to resolve it", ref)
		}
		return resolve(ref)
	}
	preserve := node["x-kubernetes-preserve-unknown-fields"] == true
	if node["format"] == "int-or-string" || node["x-kubernetes-int-or-string"] == true {
		delete(node, "type")
		delete(node, "format")
		node["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}
	}
	if node["nullable"] == true {
		allowNull(node)
	}
	delete(node, "nullable")
	delete(node, "description")
	for k := range node {
		if strings.HasPrefix(k, "x-kubernetes-") {
			delete(node, k)
		}
	}

	if props, ok := node["properties"].(map[string]any); ok {
		required := map[string]bool{}
		if req, ok := node["required"].([]any); ok {
			for _, r := range req {
				if s, ok := r.(string); ok {
					required[s] = true
				}
			}
		}
		for name, p := range props {
			child, err := strictChild(p, resolve)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if !required[name] {
				allowNull(child)
			}
			props[name] = child
		}
		if _, set := node["additionalProperties"]; !set && !preserve {
			node["additionalProperties"] = false
		}
	}
	for _, key := range []string{"items", "additionalProperties", "not"} {
		if m, ok := node[key].(map[string]any); ok {
			child, err := strictSchema(m, resolve)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			node[key] = child
		}
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		list, ok := node[key].([]any)
		if !ok {
			continue
		}
		for i, item := range list {
			child, err := strictChild(item, resolve)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
			}
			list[i] = child
		}
	}
	return node, nil
}

// strictChild converts a child node that must be a schema object.
func strictChild(v any, resolve resolver) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema is a %T, want an object", v)
	}
	return strictSchema(m, resolve)
}

// allowNull lets an optional field be written as null, as kubectl accepts.
func allowNull(node map[string]any) {
	switch t := node["type"].(type) {
	case string:
		node["type"] = []any{t, "null"}
	case nil:
		if list, ok := node["oneOf"].([]any); ok {
			node["oneOf"] = append(list, map[string]any{"type": "null"})
		}
	}
}

// pinKind makes a kind's schema accept only its own apiVersion and kind.
func pinKind(s map[string]any, k GVK) error {
	props, ok := s["properties"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: schema has no properties", k)
	}
	for field, value := range map[string]string{"apiVersion": k.APIVersion(), "kind": k.Kind} {
		p, ok := props[field].(map[string]any)
		if !ok {
			p = map[string]any{}
			props[field] = p
		}
		p["type"] = "string"
		p["enum"] = []any{value}
	}
	return nil
}
