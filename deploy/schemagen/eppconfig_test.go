package main

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestEndpointPickerConfig checks the endpoint picker's config, which
// kubeconform sees only as a ConfigMap string: every plugin a profile or
// another plugin refers to is defined, and the default profile scores by
// cached prefix, so that a conversation's turns go to the replica holding
// its prefix.
func TestEndpointPickerConfig(t *testing.T) {
	data, err := os.ReadFile("../kubernetes/epp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for doc := range strings.SplitSeq(string(data), "\n---\n") {
		var cm struct {
			Kind string            `json:"kind"`
			Data map[string]string `json:"data"`
		}
		if err := yaml.Unmarshal([]byte(doc), &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Kind == "ConfigMap" {
			text = cm.Data["epp-config.yaml"]
		}
	}
	var cfg struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Plugins    []struct {
			Type       string         `json:"type"`
			Name       string         `json:"name"`
			Parameters map[string]any `json:"parameters"`
		} `json:"plugins"`
		SchedulingProfiles []struct {
			Name    string `json:"name"`
			Plugins []struct {
				PluginRef string  `json:"pluginRef"`
				Weight    float64 `json:"weight"`
			} `json:"plugins"`
		} `json:"schedulingProfiles"`
	}
	if err := yaml.UnmarshalStrict([]byte(text), &cfg); err != nil || cfg.Kind != "EndpointPickerConfig" {
		t.Fatalf("epp-config.yaml: %v (kind %q)", err, cfg.Kind)
	}
	defined := map[string]string{} // name (the type when unnamed) to type
	for _, p := range cfg.Plugins {
		name := p.Name
		if name == "" {
			name = p.Type
		}
		if _, dup := defined[name]; dup {
			t.Errorf("plugin %q defined twice", name)
		}
		defined[name] = p.Type
	}
	for _, p := range cfg.Plugins {
		for k, v := range p.Parameters {
			if ref, ok := v.(string); ok && strings.HasSuffix(k, "ProducerName") && defined[ref] == "" {
				t.Errorf("plugin %s: %s names %q, which is not defined", p.Type, k, ref)
			}
		}
	}
	scored := map[string]float64{}
	for _, prof := range cfg.SchedulingProfiles {
		for _, ref := range prof.Plugins {
			if defined[ref.PluginRef] == "" || ref.Weight <= 0 {
				t.Errorf("profile %s: plugin %q (weight %v) is not defined or not weighted", prof.Name, ref.PluginRef, ref.Weight)
			}
			scored[defined[ref.PluginRef]] = ref.Weight
		}
	}
	if scored["prefix-cache-scorer"] <= scored["queue-scorer"] {
		t.Errorf("weights %v: the prefix-cache scorer must outweigh the queue scorer", scored)
	}
	for _, need := range []string{"approx-prefix-cache-producer", "token-producer"} {
		if defined[need] == "" {
			t.Errorf("no %s: the prefix-cache scorer would have nothing to read", need)
		}
	}
}
