// Package testmodels finds the shared test models and builds model
// directories from them for tests.
package testmodels

import (
	"os"
	"path/filepath"
	"testing"
)

// envDir names the environment variable that overrides the models directory.
const envDir = "SIEVE_TEST_MODELS"

// Path returns the path of the test model file name (relative to the models
// directory: $SIEVE_TEST_MODELS, else ../shared/models beside the repository
// root). A missing file skips the test, or fails it when CI=true.
func Path(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv(envDir)
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			missing(t, name, err.Error())
			return ""
		}
		dir = filepath.Join(root, "..", "shared", "models")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		missing(t, name, err.Error())
		return ""
	}
	return p
}

// missing skips or, under CI, fails the test for a model that is not there.
func missing(t testing.TB, name, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("test model %s: %s", name, why)
	}
	t.Skipf("test model %s not available: %s", name, why)
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
