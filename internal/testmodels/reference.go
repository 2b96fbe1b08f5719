package testmodels

import (
	"os"
	"path/filepath"
	"testing"
)

// ReferencePath returns the path of a reference output produced by an
// independent implementation: ../shared/reference beside the repository
// root, or the reference directory beside $SIEVE_TEST_MODELS. A missing file
// skips the test, or fails it when CI=true.
func ReferencePath(t testing.TB, name string) string {
	t.Helper()
	var dir string
	if d := os.Getenv(envDir); d != "" {
		dir = filepath.Join(d, "..", "reference")
	} else {
		root, err := repoRoot()
		if err != nil {
			missing(t, name, err.Error())
			return ""
		}
		dir = filepath.Join(root, "..", "shared", "reference")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		missing(t, name, err.Error())
		return ""
	}
	return p
}
