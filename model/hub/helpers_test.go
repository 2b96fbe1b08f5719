package hub

import (
	"bytes"
	"os"
	"testing"

	"sieve/model/hub/hubtest"
)

// fakeHub starts an imitation hub holding repos and returns it with a
// client that pulls from it into a fresh cache.
func fakeHub(t *testing.T, repos map[string]*hubtest.Repo) (*hubtest.Server, *Client) {
	t.Helper()
	srv := hubtest.New()
	t.Cleanup(srv.Close)
	for name, r := range repos {
		srv.Add(name, r)
	}
	return srv, &Client{Endpoint: srv.URL, Cache: Cache{Dir: t.TempDir()}, HTTP: srv.Client()}
}

// pattern returns n bytes that differ from one position to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/251) ^ seed
	}
	return b
}

// mustRef parses a reference or fails the test.
func mustRef(t *testing.T, s string) Ref {
	t.Helper()
	r, err := ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sameFile fails the test unless the file at path holds want.
func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes that differ from the %d served", path, len(got), len(want))
	}
}

// count returns how many recorded requests start with prefix.
func count(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if len(r) >= len(prefix) && r[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}
