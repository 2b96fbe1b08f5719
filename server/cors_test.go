package server

import (
	"net/http"
	"testing"
)

func TestCORS(t *testing.T) {
	const site = "http://app.example"
	open := CORS{Origins: []string{"*"}, Methods: []string{"*"}, Headers: []string{"*"}}
	listed := CORS{Origins: []string{site}, Methods: []string{"POST"}, Headers: []string{"Authorization", "Content-Type"}, Credentials: true}
	preflight := func(origin, method, headers string) []string {
		h := []string{"Origin", origin, "Access-Control-Request-Method", method}
		if headers != "" {
			h = append(h, "Access-Control-Request-Headers", headers)
		}
		return h
	}
	tests := []struct {
		name         string
		cors         CORS
		method, path string
		header       []string
		status       int
		allowOrigin  string // "" for none
		allowHeaders string
		credentials  bool
	}{
		{"default: preflight refused", DefaultCORS(), http.MethodOptions, "/v1/chat/completions", preflight(site, "POST", "content-type"), 403, "", "", false},
		{"default: no header on a plain request", DefaultCORS(), http.MethodGet, "/health", []string{"Origin", site}, 200, "", "", false},
		{"OPTIONS without CORS headers", DefaultCORS(), http.MethodOptions, "/v1/models", nil, 204, "", "", false},
		{"any origin: preflight", open, http.MethodOptions, "/v1/chat/completions", preflight(site, "POST", "authorization, content-type"), 204, "*", "authorization, content-type", false},
		{"any origin: plain request", open, http.MethodGet, "/health", []string{"Origin", site}, 200, "*", "", false},
		{"listed origin with credentials", listed, http.MethodOptions, "/v1/completions", preflight(site, "POST", "Authorization"), 204, site, "Authorization, Content-Type", true},
		{"listed origin: answer marked", listed, http.MethodGet, "/health", []string{"Origin", site}, 200, site, "", true},
		{"other origin refused", listed, http.MethodOptions, "/v1/completions", preflight("http://evil.example", "POST", ""), 403, "", "", false},
		{"other origin: no header", listed, http.MethodGet, "/health", []string{"Origin", "http://evil.example"}, 200, "", "", false},
		{"method not allowed", listed, http.MethodOptions, "/v1/models", preflight(site, "DELETE", ""), 403, "", "", false},
		{"header not allowed", listed, http.MethodOptions, "/v1/models", preflight(site, "POST", "X-Secret"), 403, "", "", false},
		{"preflight skips the key", CORS{Origins: []string{site}, Methods: []string{"*"}, Headers: []string{"*"}}, http.MethodOptions, "/v1/models", preflight(site, "GET", "authorization"), 204, site, "authorization", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{CORS: tt.cors, APIKey: "k"}, true)
			resp, body := h.do(tt.method, tt.path, "", tt.header...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			hd := resp.Header
			if got := hd.Get("Access-Control-Allow-Origin"); got != tt.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.allowOrigin)
			}
			if got := hd.Get("Access-Control-Allow-Headers"); got != tt.allowHeaders {
				t.Errorf("Access-Control-Allow-Headers %q, want %q", got, tt.allowHeaders)
			}
			if got := hd.Get("Access-Control-Allow-Credentials") == "true"; got != tt.credentials {
				t.Errorf("Access-Control-Allow-Credentials %v, want %v", got, tt.credentials)
			}
			if tt.status == 204 && tt.allowOrigin != "" && hd.Get("Access-Control-Allow-Methods") == "" {
				t.Errorf("preflight answer without Access-Control-Allow-Methods")
			}
		})
	}
}

func TestListFlag(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{`["http://a.example", "*"]`, []string{"http://a.example", "*"}},
		{"GET, POST", []string{"GET", "POST"}},
		{"", nil},
	} {
		var got []string
		if err := (listFlag{&got}).Set(tt.in); err != nil || len(got) != len(tt.want) {
			t.Errorf("Set(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("Set(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}
