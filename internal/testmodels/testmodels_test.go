package testmodels

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPathFromEnv(t *testing.T) {
	dir := t.TempDir()
	want := filepath.Join(dir, "m.bin")
	if err := os.WriteFile(want, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envDir, dir)
	if got := Path(t, "m.bin"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}

func TestAdjacentRow(t *testing.T) {
	// Two heads of 8 rows: rotate-half row i < 4 holds row 2i, row i+4 holds row 2i+1.
	want := []int{0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15}
	for r, w := range want {
		if got := adjacentRow(r, 8); got != w {
			t.Errorf("adjacentRow(%d, 8) = %d, want %d", r, got, w)
		}
	}
}
