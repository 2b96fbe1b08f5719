// Package hubtest runs a local HTTP server that imitates the Hugging Face
// hub's endpoints, for offline tests of the hub client: the model API's
// file list, resolve URLs that redirect large files to a CDN path, ranged
// downloads, tokens, gated repositories, dropped connections and corrupted
// files.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Repo is one repository the server holds.
type Repo struct {
	Files  map[string][]byte
	Commit string // 40 hex digits; empty: derived from the repo name
	Token  string // when set, requests need "Authorization: Bearer Token"
	Gated  bool   // file downloads answer 403 GatedRepo
}

// Server is the imitation hub. Set its fields before the first request.
type Server struct {
	*httptest.Server

	mu    sync.Mutex
	repos map[string]*Repo
	// drops, per file name, makes the next downloads of it break off after
	// the given numbers of bytes.
	drops map[string][]int64
	// corrupt serves these files with one byte changed.
	corrupt map[string]bool
	// requests records "METHOD PATH RANGE" of every request, in order.
	requests []string
	// stall makes downloads of a file send half and then wait until the
	// client goes away.
	stall map[string]bool
	// cdnFiles maps a sha256 to the file the CDN path serves for it.
	cdnFiles map[string]cdnFile
}

// New starts a server; Close it when done.
func New() *Server {
	s := &Server{repos: map[string]*Repo{}, drops: map[string][]int64{}, corrupt: map[string]bool{}, stall: map[string]bool{}, cdnFiles: map[string]cdnFile{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Add puts a repository ("ORG/NAME") on the server.
func (s *Server) Add(name string, r *Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Commit == "" {
		sum := sha1.Sum([]byte(name))
		r.Commit = hex.EncodeToString(sum[:])
	}
	s.repos[name] = r
}

// DropAfter makes the next download of file break off after n bytes; call
// it again to queue more drops.
func (s *Server) DropAfter(file string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[file] = append(s.drops[file], n)
}

// Corrupt makes downloads of file deliver different bytes than the hub's
// checksum says.
func (s *Server) Corrupt(file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[file] = true
}

// Stall makes downloads of file send half of it and then hang until the
// client gives up.
func (s *Server) Stall(file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall[file] = true
}

// Requests returns "METHOD PATH [Range]" for every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// SHA256 is the hex sha256 of data, as the hub states it for LFS files.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// gitBlobID is the git object hash of data.
func gitBlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// isLFS says which files the imitation keeps in LFS: the weights.
func isLFS(name string) bool {
	return strings.HasSuffix(name, ".gguf") || strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".bin")
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, strings.TrimSpace(req.Method+" "+req.URL.Path+" "+req.Header.Get("Range")))
	s.mu.Unlock()
	p := req.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/models/"):
		s.serveInfo(w, req, strings.TrimPrefix(p, "/api/models/"))
	case strings.HasPrefix(p, "/cdn/"):
		s.serveCDN(w, req, strings.TrimPrefix(p, "/cdn/"))
	default:
		s.serveResolve(w, req, strings.TrimPrefix(p, "/"))
	}
}

// repo finds a repository and checks the request's token, answering the
// error itself when it fails.
func (s *Server) repo(w http.ResponseWriter, req *http.Request, name string) (*Repo, bool) {
	s.mu.Lock()
	r := s.repos[name]
	s.mu.Unlock()
	if r == nil || (r.Token != "" && req.Header.Get("Authorization") != "Bearer "+r.Token) {
		// The hub answers 401 both for a private repository without a
		// good token and for one that does not exist.
		fail(w, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
		return nil, false
	}
	return r, true
}

// route splits "ORG/NAME/VERB/REV[/FILE]" into n parts and finds the
// repository and revision, answering the error itself when that fails.
func (s *Server) route(w http.ResponseWriter, req *http.Request, rest, verb string, n int) (*Repo, []string, bool) {
	parts := strings.SplitN(rest, "/", n)
	if len(parts) != n || parts[2] != verb {
		fail(w, http.StatusNotFound, "", "no such endpoint")
		return nil, nil, false
	}
	r, ok := s.repo(w, req, parts[0]+"/"+parts[1])
	if !ok {
		return nil, nil, false
	}
	if parts[3] != "main" && parts[3] != r.Commit {
		fail(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+parts[3])
		return nil, nil, false
	}
	return r, parts, true
}

// serveInfo answers /api/models/ORG/NAME/revision/REV.
func (s *Server) serveInfo(w http.ResponseWriter, req *http.Request, rest string) {
	r, parts, ok := s.route(w, req, rest, "revision", 4)
	if !ok {
		return
	}
	type lfs struct {
		SHA256      string `json:"sha256"`
		Size        int    `json:"size"`
		PointerSize int    `json:"pointerSize"`
	}
	type sib struct {
		Name   string `json:"rfilename"`
		Size   int    `json:"size"`
		BlobID string `json:"blobId"`
		LFS    *lfs   `json:"lfs,omitempty"`
	}
	var sibs []sib
	for name, data := range r.Files {
		sb := sib{Name: name, Size: len(data), BlobID: gitBlobID(data)}
		if isLFS(name) {
			sb.LFS = &lfs{SHA256: SHA256(data), Size: len(data), PointerSize: 134}
		}
		sibs = append(sibs, sb)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"id": parts[0] + "/" + parts[1], "sha": r.Commit, "siblings": sibs})
}

// serveResolve answers /ORG/NAME/resolve/REV/FILE: small files directly,
// LFS files with a redirect to /cdn/, carrying X-Linked-Etag.
func (s *Server) serveResolve(w http.ResponseWriter, req *http.Request, rest string) {
	r, parts, ok := s.route(w, req, rest, "resolve", 5)
	if !ok {
		return
	}
	if r.Gated {
		fail(w, http.StatusForbidden, "GatedRepo", "Access to model "+parts[0]+"/"+parts[1]+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
		return
	}
	file := parts[4]
	data, ok := r.Files[file]
	if !ok {
		fail(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	w.Header().Set("X-Repo-Commit", r.Commit)
	if !isLFS(file) {
		w.Header().Set("ETag", `"`+gitBlobID(data)+`"`)
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
		return
	}
	sum := SHA256(data)
	s.mu.Lock()
	s.cdnFiles[sum] = cdnFile{name: file, data: data}
	s.mu.Unlock()
	w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
	w.Header().Set("X-Linked-Size", fmt.Sprint(len(data)))
	http.Redirect(w, req, "/cdn/"+sum, http.StatusFound)
}

// cdnFile is a file the CDN path serves.
type cdnFile struct {
	name string
	data []byte
}

// serveCDN answers /cdn/SHA256 with ranges, drops and corruption as set.
func (s *Server) serveCDN(w http.ResponseWriter, req *http.Request, sum string) {
	s.mu.Lock()
	f, ok := s.cdnFiles[sum]
	var drop int64 = -1
	if q := s.drops[f.name]; ok && len(q) > 0 {
		drop, s.drops[f.name] = q[0], q[1:]
	}
	corrupt, stall := s.corrupt[f.name], s.stall[f.name]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	data := f.data
	if corrupt {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	w.Header().Set("ETag", `"`+sum+`"`)
	switch {
	case stall:
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		<-req.Context().Done()
	case drop >= 0:
		start := rangeStart(req.Header.Get("Range"))
		if start > 0 {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)-int(start)))
		if start > 0 {
			w.WriteHeader(http.StatusPartialContent)
		}
		w.Write(data[start:min(int64(len(data)), start+drop)])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
	}
}

// rangeStart reads "bytes=N-".
func rangeStart(h string) int64 {
	var n int64
	if _, err := fmt.Sscanf(h, "bytes=%d-", &n); err != nil {
		return 0
	}
	return n
}

// fail answers an error the way the hub does: status, X-Error-Code and
// X-Error-Message headers, and a JSON body.
func fail(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
