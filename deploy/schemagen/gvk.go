package main

import (
	"fmt"
	"strings"
)

// GVK names one kind at one API version; Group is empty for the core group.
type GVK struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

// APIVersion is the manifest's apiVersion: "v1" or "apps/v1".
func (k GVK) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// String writes k as Kind.group/version, the form -kinds takes.
func (k GVK) String() string {
	return k.Kind + "." + k.APIVersion()
}

// FileName is the schema's file name under kubeconform's
// {{.ResourceKind}}{{.KindSuffix}}.json template: the lower-case kind, then
// the first label of the group (if any) and the version.
func (k GVK) FileName() string {
	suffix := "-" + strings.ToLower(k.Version)
	if k.Group != "" {
		first, _, _ := strings.Cut(k.Group, ".")
		suffix = "-" + strings.ToLower(first) + suffix
	}
	return strings.ToLower(k.Kind) + suffix + ".json"
}

// parseKinds reads a comma-separated list of Kind.group/version.
func parseKinds(s string) ([]GVK, error) {
	var out []GVK
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, apiVersion, ok := strings.Cut(item, ".")
		if !ok || kind == "" || apiVersion == "" {
			return nil, fmt.Errorf("kind %q: want Kind.group/version or Kind.version", item)
		}
		k := GVK{Kind: kind, Version: apiVersion}
		if g, v, ok := strings.Cut(apiVersion, "/"); ok {
			k.Group, k.Version = g, v
		}
		if k.Version == "" || strings.Contains(k.Version, "/") {
			return nil, fmt.Errorf("kind %q: bad version", item)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no kinds given")
	}
	return out, nil
}
