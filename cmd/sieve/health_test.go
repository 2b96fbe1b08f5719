package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   int
	}{
		{"ready", http.StatusOK, 0},
		{"loading or draining", http.StatusServiceUnavailable, 1},
		{"not found", http.StatusNotFound, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/health" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			code, _, errOut := sieve("health", "--url", srv.URL+"/health")
			if code != tc.want {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.want, errOut)
			}
		})
	}
}

func TestHealthUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/health"
	srv.Close()
	code, _, errOut := sieve("health", "--url", url, "--timeout", "2s")
	if code != 1 || !strings.Contains(errOut, "probe") {
		t.Errorf("exit %d, stderr %q; want 1 and a probe error", code, errOut)
	}
}

func TestHealthBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"health", "--timeout", "0s"},
		{"health", "--url", "::not a url"},
		{"health", "extra"},
	} {
		if code, _, _ := sieve(args...); code == 0 {
			t.Errorf("sieve %v: exit 0, want a failure", args)
		}
	}
}
