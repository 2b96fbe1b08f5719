package hub

import (
	"fmt"
	"path"
	"strings"
)

// Scheme prefixes a model reference given where a path is expected
// ("hf://ORG/NAME/FILE").
const Scheme = "hf://"

// DefaultRevision is the branch pulled when a reference names none.
const DefaultRevision = "main"

// Ref names a model on the hub: a repository, optionally one file in it
// (a GGUF), and a revision.
type Ref struct {
	Repo     string // "ORG/NAME"
	File     string // path inside the repository; empty: the whole model
	Revision string // branch, tag or commit; empty: DefaultRevision
}

// String formats r as ParseRef reads it: "ORG/NAME[@REV][:FILE]".
func (r Ref) String() string {
	s := r.Repo
	if r.Revision != "" && r.Revision != DefaultRevision {
		s += "@" + r.Revision
	}
	if r.File != "" {
		s += ":" + r.File
	}
	return s
}

// rev is the revision to resolve.
func (r Ref) rev() string {
	if r.Revision == "" {
		return DefaultRevision
	}
	return r.Revision
}

// IsURI reports whether s is an hf:// model reference.
func IsURI(s string) bool { return strings.HasPrefix(s, Scheme) }

// ParseRef reads "ORG/NAME[@REV][:FILE]", or the URI form
// "hf://ORG/NAME[@REV][/FILE]" (where ":FILE" works too).
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest, uri := strings.CutPrefix(s, Scheme)
	repo, file, hasFile := strings.Cut(rest, ":")
	if uri && !hasFile {
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) == 3 {
			repo, file, hasFile = parts[0]+"/"+parts[1], parts[2], true
		}
	}
	repo, r.Revision, _ = strings.Cut(repo, "@")
	r.Repo, r.File = repo, file
	if err := checkRepo(r.Repo); err != nil {
		return Ref{}, fmt.Errorf("%w: %q: %w", ErrBadRef, s, err)
	}
	if hasFile {
		if err := checkFile(r.File); err != nil {
			return Ref{}, fmt.Errorf("%w: %q: %w", ErrBadRef, s, err)
		}
	}
	if strings.ContainsAny(r.Revision, "\x00\\") || strings.Contains(r.Revision, "..") {
		return Ref{}, fmt.Errorf("%w: %q: bad revision %q", ErrBadRef, s, r.Revision)
	}
	return r, nil
}

// checkRepo accepts "ORG/NAME" made of letters, digits, '-', '_' and '.'.
func checkRepo(repo string) error {
	org, name, ok := strings.Cut(repo, "/")
	if !ok || strings.Contains(name, "/") {
		return fmt.Errorf("repository %q is not ORG/NAME", repo)
	}
	for _, part := range []string{org, name} {
		if part == "" || part == "." || part == ".." || strings.HasPrefix(part, "--") {
			return fmt.Errorf("repository %q is not ORG/NAME", repo)
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return fmt.Errorf("repository %q has the character %q", repo, c)
			}
		}
	}
	return nil
}

// checkFile accepts a relative slash-separated path that stays inside the
// repository; it guards the cache against names from the hub as well as
// from the command line.
func checkFile(file string) error {
	if file == "" || strings.HasPrefix(file, "/") || strings.ContainsAny(file, "\x00\\") ||
		path.Clean(file) != file || file == "." || file == ".." || strings.HasPrefix(file, "../") {
		return fmt.Errorf("file name %q is not a plain path inside the repository", file)
	}
	return nil
}
