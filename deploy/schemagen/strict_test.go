package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkSchema compares the schema written for k, and its file name.
func checkSchema(t *testing.T, schemas map[GVK]map[string]any, k GVK, want map[string]any, file string) {
	t.Helper()
	if got := schemas[k]; !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		t.Errorf("%s: got %s", k, g)
	}
	if got := k.FileName(); got != file {
		t.Errorf("%s: file name %q, want %q", k, got, file)
	}
}

func TestStrictSchema(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"closes objects and allows null on optional fields",
			`{"type":"object","description":"x","required":["a"],"properties":{"a":{"type":"string"},"b":{"type":"integer","format":"int32"}}}`,
			`{"type":"object","required":["a"],"additionalProperties":false,"properties":{"a":{"type":"string"},"b":{"type":["integer","null"],"format":"int32"}}}`},
		{"keeps a property named description",
			`{"type":"object","properties":{"description":{"type":"string","description":"d"}}}`,
			`{"type":"object","additionalProperties":false,"properties":{"description":{"type":["string","null"]}}}`},
		{"int-or-string",
			`{"type":"object","required":["p"],"properties":{"p":{"type":"string","format":"int-or-string"},"q":{"x-kubernetes-int-or-string":true}}}`,
			`{"type":"object","required":["p"],"additionalProperties":false,"properties":{"p":{"oneOf":[{"type":"string"},{"type":"integer"}]},"q":{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}}}`},
		{"preserve-unknown-fields stays open",
			`{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"a":{"type":"string"}}}`,
			`{"type":"object","properties":{"a":{"type":["string","null"]}}}`},
		{"maps and arrays recurse",
			`{"type":"object","additionalProperties":{"type":"object","properties":{"a":{"type":"string"}}},"properties":{"l":{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"}}}}}}`,
			`{"type":"object","additionalProperties":{"type":"object","additionalProperties":false,"properties":{"a":{"type":["string","null"]}}},"properties":{"l":{"type":["array","null"],"items":{"type":"object","additionalProperties":false,"properties":{"n":{"type":["integer","null"]}}}}}}`},
		{"nullable",
			`{"type":"string","nullable":true}`,
			`{"type":["string","null"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := strictSchema(decode(t, tc.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := decode(t, tc.want); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				t.Errorf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
}

func TestFromOpenAPIInlinesRefsAndPinsKind(t *testing.T) {
	spec := `{"definitions":{
	  "io.k8s.api.core.v1.Thing":{"type":"object","properties":{
	    "apiVersion":{"type":"string"},"kind":{"type":"string"},
	    "spec":{"$ref":"#/definitions/io.k8s.api.core.v1.ThingSpec","description":"s"}},
	    "x-kubernetes-group-version-kind":[{"group":"","version":"v1","kind":"Thing"}]},
	  "io.k8s.api.core.v1.ThingSpec":{"type":"object","properties":{
	    "size":{"type":"integer"},"child":{"$ref":"#/definitions/io.k8s.api.core.v1.ThingSpec"}}}}}`
	k := GVK{Version: "v1", Kind: "Thing"}
	schemas := map[GVK]map[string]any{}
	if err := fromOpenAPI([]byte(spec), []GVK{k}, schemas); err != nil {
		t.Fatal(err)
	}
	want := decode(t, `{"type":"object","additionalProperties":false,"properties":{
	  "apiVersion":{"type":"string","enum":["v1"]},"kind":{"type":"string","enum":["Thing"]},
	  "spec":{"type":["object","null"],"additionalProperties":false,"properties":{
	    "size":{"type":["integer","null"]},"child":{}}}}}`)
	checkSchema(t, schemas, k, want, "thing-v1.json")
}

func TestFromCRDs(t *testing.T) {
	yamlDoc := `# a comment
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: example.io
  names: {kind: Widget}
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
---
kind: ConfigMap
`
	k := GVK{Group: "example.io", Version: "v1", Kind: "Widget"}
	schemas := map[GVK]map[string]any{}
	if err := fromCRDs([]byte(yamlDoc), []GVK{k}, schemas); err != nil {
		t.Fatal(err)
	}
	want := decode(t, `{"type":"object","additionalProperties":false,"properties":{
	  "apiVersion":{"type":"string","enum":["example.io/v1"]},"kind":{"type":"string","enum":["Widget"]},
	  "spec":{"type":["object","null"],"required":["size"],"additionalProperties":false,"properties":{"size":{"type":"integer"}}}}}`)
	checkSchema(t, schemas, k, want, "widget-example-v1.json")
}

func TestParseKinds(t *testing.T) {
	got, err := parseKinds("Deployment.apps/v1, Service.v1,InferencePool.inference.networking.k8s.io/v1")
	if err != nil {
		t.Fatal(err)
	}
	want := []GVK{{"apps", "v1", "Deployment"}, {"", "v1", "Service"}, {"inference.networking.k8s.io", "v1", "InferencePool"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "Deployment", ".v1", "Deployment.apps/", "Deployment.a/b/c"} {
		if _, err := parseKinds(bad); err == nil {
			t.Errorf("parseKinds(%q): no error", bad)
		}
	}
}
