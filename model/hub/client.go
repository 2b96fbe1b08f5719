// Package hub pulls models from the Hugging Face hub into a local cache
// (laid out as the hub's own cache is, and shared with it) and lists and
// removes cached models.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultEndpoint is the hub's address when HF_ENDPOINT is not set.
const DefaultEndpoint = "https://huggingface.co"

// Client talks to the hub and fills a Cache.
type Client struct {
	Endpoint string       // hub address, e.g. DefaultEndpoint
	Token    string       // sent as "Authorization: Bearer TOKEN" when not empty
	Cache    Cache        // where pulled files go
	HTTP     *http.Client // nil: http.DefaultClient
	Progress Progress     // reports downloads; nil: silent
	// Attempts bounds the requests per file when a download breaks off
	// (each resumes where the last stopped); 0 means 5.
	Attempts int
	// RetryWait is the pause before each new attempt, times the attempt
	// number; 0 means none.
	RetryWait time.Duration
	// Offline forbids network use: Pull fails with ErrUnreachable.
	Offline bool
}

// FromEnv returns a client for $HF_ENDPOINT (default DefaultEndpoint) with
// the token $HF_TOKEN and the cache DefaultCacheDir picks; HF_HUB_OFFLINE=1
// makes it offline.
func FromEnv() (*Client, error) {
	dir, err := DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	offline := os.Getenv("HF_HUB_OFFLINE")
	return &Client{Endpoint: endpoint, Token: os.Getenv("HF_TOKEN"), Cache: Cache{Dir: dir},
		HTTP: &http.Client{Transport: tr}, RetryWait: time.Second,
		Offline: offline != "" && offline != "0" && !strings.EqualFold(offline, "false")}, nil
}

// repoInfo is what the hub's model API says about one revision.
type repoInfo struct {
	Commit   string    `json:"sha"`
	Siblings []sibling `json:"siblings"`
}

// sibling is one file of a revision.
type sibling struct {
	Name   string `json:"rfilename"`
	Size   int64  `json:"size"`
	BlobID string `json:"blobId"` // git object hash
	LFS    *struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	} `json:"lfs"`
}

// blob is the content hash a file is stored under, and its sha256 when the
// hub gives one (files in Git LFS).
func (s sibling) blob() (name, sha256 string) {
	if s.LFS != nil && isHex(s.LFS.SHA256, 64) {
		return s.LFS.SHA256, s.LFS.SHA256
	}
	return s.BlobID, ""
}

// size is the file's length, or -1 when the hub did not say.
func (s sibling) size() int64 {
	if s.LFS != nil && s.LFS.Size > 0 {
		return s.LFS.Size
	}
	if s.Size > 0 || s.BlobID != "" {
		return s.Size
	}
	return -1
}

// info fetches the commit and file list of a revision from
// /api/models/REPO/revision/REV?blobs=true.
func (c *Client) info(ctx context.Context, r Ref) (repoInfo, error) {
	if c.Offline {
		return repoInfo{}, fmt.Errorf("%s: %w: HF_HUB_OFFLINE is set", r, ErrUnreachable)
	}
	u := c.Endpoint + "/api/models/" + r.Repo + "/revision/" + url.PathEscape(r.rev()) + "?blobs=true"
	resp, err := c.get(ctx, u, nil)
	if err != nil {
		return repoInfo{}, fmt.Errorf("%s: %w", r, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return repoInfo{}, statusError(resp, r, "", c.Token != "")
	}
	var info repoInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return repoInfo{}, fmt.Errorf("%s: reading the hub's file list: %w", r, err)
	}
	if !isHex(info.Commit, 40) {
		return repoInfo{}, fmt.Errorf("%s: the hub gave the commit %q, not a 40-digit hash", r, info.Commit)
	}
	for _, s := range info.Siblings {
		if err := checkFile(s.Name); err != nil {
			return repoInfo{}, fmt.Errorf("%s: the hub listed a bad file: %w", r, err)
		}
	}
	return info, nil
}

// get sends a GET with the token, and optional extra headers.
func (c *Client) get(ctx context.Context, u string, header http.Header) (*http.Response, error) {
	return c.do(ctx, c.httpClient(), u, header)
}

// do sends a GET with hc.
func (c *Client) do(ctx context.Context, hc *http.Client, u string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRef, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("User-Agent", "sieve")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w (%s): %w", ErrUnreachable, c.Endpoint, errors.Unwrap(err))
	}
	return resp, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// statusError turns a failed response into an error that names what was
// asked for and wraps the sentinel the status stands for.
func statusError(resp *http.Response, r Ref, file string, haveToken bool) error {
	code, msg := resp.Header.Get("X-Error-Code"), resp.Header.Get("X-Error-Message")
	what := r.Repo
	if file != "" {
		what = r.Repo + ":" + file
	}
	switch {
	case code == "GatedRepo" || (resp.StatusCode == http.StatusForbidden && strings.Contains(strings.ToLower(msg), "gated")):
		return fmt.Errorf("%s: %w: accept its terms at %s and set HF_TOKEN to a token of that account", what, ErrGated, "huggingface.co/"+r.Repo)
	case resp.StatusCode == http.StatusUnauthorized && haveToken:
		return fmt.Errorf("%s: %w: the hub did not accept HF_TOKEN for it (or it does not exist)", what, ErrUnauthorized)
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s: %w: the repository does not exist or is private; for a private one set HF_TOKEN", what, ErrUnauthorized)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: %w: HF_TOKEN has no access to it", what, ErrUnauthorized)
	case resp.StatusCode == http.StatusNotFound && code == "RevisionNotFound":
		return fmt.Errorf("%s: %w: no revision %q", r.Repo, ErrNotFound, r.rev())
	case resp.StatusCode == http.StatusNotFound && file != "":
		return fmt.Errorf("%s: %w: no file %q in the repository", r.Repo, ErrNotFound, file)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if msg != "" {
		return fmt.Errorf("%s: the hub answered %s: %s", what, resp.Status, msg)
	}
	return fmt.Errorf("%s: the hub answered %s", what, resp.Status)
}
