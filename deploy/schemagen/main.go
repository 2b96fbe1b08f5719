// Command schemagen writes the JSON schemas that kubeconform validates
// Sieve's Kubernetes manifests against: standalone (every $ref inlined) and
// strict (objects reject unknown fields), one file per kind and version,
// named as kubeconform's {{.ResourceKind}}{{.KindSuffix}}.json template
// expects. Core kinds come from a Kubernetes OpenAPI v2 spec (swagger.json),
// custom resources from CustomResourceDefinition YAML files.
//
//	go run . -out ../kubernetes/schemas -openapi swagger.json \
//	  -crd inferencepools.yaml -crd httproutes.yaml \
//	  -kinds Deployment.apps/v1,Service.v1,InferencePool.inference.networking.k8s.io/v1
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// errUsage marks a command-line error that has been reported.
var errUsage = errors.New("usage error")

// crdFiles collects repeated -crd flags.
type crdFiles []string

func (c *crdFiles) String() string     { return strings.Join(*c, ",") }
func (c *crdFiles) Set(s string) error { *c = append(*c, s); return nil }

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "schemagen:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("schemagen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write the schemas into (required)")
	openapi := fs.String("openapi", "", "Kubernetes OpenAPI v2 spec (swagger.json) for the core kinds")
	var crds crdFiles
	fs.Var(&crds, "crd", "CustomResourceDefinition YAML file (repeatable)")
	kinds := fs.String("kinds", "", "comma-separated Kind.group/version list to write, e.g. Deployment.apps/v1,Service.v1 (required)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" || *kinds == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "schemagen: -out and -kinds are required, and no arguments")
		fs.Usage()
		return errUsage
	}
	want, err := parseKinds(*kinds)
	if err != nil {
		return err
	}
	schemas := map[GVK]map[string]any{}
	if *openapi != "" {
		data, err := os.ReadFile(*openapi)
		if err != nil {
			return err
		}
		if err := fromOpenAPI(data, want, schemas); err != nil {
			return fmt.Errorf("%s: %w", *openapi, err)
		}
	}
	for _, f := range crds {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := fromCRDs(data, want, schemas); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	for _, k := range want {
		if schemas[k] == nil {
			return fmt.Errorf("no schema found for %s", k)
		}
	}
	return writeAll(*out, want, schemas)
}
