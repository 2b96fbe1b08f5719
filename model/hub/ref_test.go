package hub

import (
	"errors"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
	}{
		{"org/name", Ref{Repo: "org/name"}},
		{"org/name:file.gguf", Ref{Repo: "org/name", File: "file.gguf"}},
		{"org/name:sub/dir/f.gguf", Ref{Repo: "org/name", File: "sub/dir/f.gguf"}},
		{"org/name@v1.0:f.gguf", Ref{Repo: "org/name", File: "f.gguf", Revision: "v1.0"}},
		{"hf://org/name", Ref{Repo: "org/name"}},
		{"hf://org/name/f.gguf", Ref{Repo: "org/name", File: "f.gguf"}},
		{"hf://org/name/tinyllamas/stories260K.gguf", Ref{Repo: "org/name", File: "tinyllamas/stories260K.gguf"}},
		{"hf://org/name:f.gguf", Ref{Repo: "org/name", File: "f.gguf"}},
		{"hf://Org-1/Name_2.x@abc/f.gguf", Ref{Repo: "Org-1/Name_2.x", File: "f.gguf", Revision: "abc"}},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "name", "org/", "/name", "a/b/c", "org/na me", "org/name:", "org/name:../x",
		"org/name:/etc/passwd", "org/name:a/../../x", "hf://org", "org/..:f", "org/name:a\\b", "org/name@..:f"} {
		if r, err := ParseRef(bad); !errors.Is(err, ErrBadRef) {
			t.Errorf("ParseRef(%q) = %+v, %v; want ErrBadRef", bad, r, err)
		}
	}
}

func TestRefStringRoundTrips(t *testing.T) {
	for _, s := range []string{"org/name", "org/name:f.gguf", "org/name@dev:a/b.gguf"} {
		r := mustRef(t, s)
		if r.String() != s {
			t.Errorf("ParseRef(%q).String() = %q", s, r.String())
		}
	}
}
