package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// download describes one file to fetch.
type download struct {
	repo, file string
	size       int64  // -1 when unknown
	sha256     string // expected hex sha256; empty when the hub gave none
}

// retryable marks a failed attempt that a new request may get past: a
// dropped connection, a short body, a server error.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// retry wraps err as retryable.
func retry(err error) error { return retryable{err} }

// download fetches u into blob, by way of blob.incomplete: a partial file
// left by an earlier attempt or run is resumed with an HTTP Range request.
// The result is checked against the sha256 (from the hub's file list, else
// from the X-Linked-Etag or ETag header when it is one); on a mismatch the
// partial file is deleted.
func (c *Client) download(ctx context.Context, u, blob string, d download) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return err
	}
	part := blob + ".incomplete"
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			if werr := sleep(ctx, c.RetryWait*time.Duration(attempt-1)); werr != nil {
				return werr
			}
		}
		var sum string
		sum, err = c.attempt(ctx, u, part, &d)
		if errors.As(err, new(retryable)) {
			continue
		}
		if err != nil {
			return err
		}
		if d.sha256 != "" && sum != d.sha256 {
			os.Remove(part)
			return fmt.Errorf("%s:%s: %w: got sha256 %s, the hub says %s; the download was deleted", d.repo, d.file, ErrChecksum, sum, d.sha256)
		}
		return os.Rename(part, blob)
	}
	return fmt.Errorf("%s:%s: download failed after %d attempts (run again to resume): %w", d.repo, d.file, attempts, err)
}

// attempt makes one request for the rest of part and appends the body to
// it, returning the hex sha256 of the whole file once it is complete.
func (c *Client) attempt(ctx context.Context, u, part string, d *download) (string, error) {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return "", err
	}
	if d.size >= 0 && have > d.size {
		if err := truncate(f); err != nil {
			return "", err
		}
		have = 0
	}
	header := http.Header{}
	if have > 0 {
		header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	hc, linked := c.recordingClient()
	resp, err := c.do(ctx, hc, u, header)
	if err != nil {
		if errors.Is(err, ErrUnreachable) {
			return "", retry(err)
		}
		return "", err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0 && rangeStart(resp) == have:
	case resp.StatusCode == http.StatusOK:
		if err := truncate(f); err != nil {
			return "", err
		}
		have = 0
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0 && have == d.size:
		return hashFile(f, have) // the partial file was complete already
	case resp.StatusCode == http.StatusPartialContent || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		if err := truncate(f); err != nil { // an unexpected range: start over
			return "", err
		}
		return "", retry(fmt.Errorf("the hub answered %s to a request for bytes %d-", resp.Status, have))
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return "", retry(statusError(resp, Ref{Repo: d.repo}, d.file, c.Token != ""))
	default:
		return "", statusError(resp, Ref{Repo: d.repo}, d.file, c.Token != "")
	}
	if d.sha256 == "" {
		d.sha256 = headerSHA256(*linked, resp.Header)
	}
	total := d.size
	if total < 0 && resp.ContentLength >= 0 && resp.StatusCode == http.StatusOK {
		total = resp.ContentLength
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, have)); err != nil {
		return "", err
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return "", err
	}
	if c.Progress != nil {
		c.Progress.Start(d.repo+":"+d.file, total, have)
	}
	n, err := copyBody(f, h, resp.Body, c.Progress)
	if c.Progress != nil {
		c.Progress.Finish()
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", retry(fmt.Errorf("the connection broke off after %d of %d bytes: %w", have+n, total, err))
	}
	if total >= 0 && have+n != total {
		return "", retry(fmt.Errorf("got %d of %d bytes", have+n, total))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile returns the hex sha256 of f's first n bytes.
func hashFile(f *os.File, n int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, n)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyBody appends body to f, hashing and reporting as it goes.
func copyBody(f *os.File, h hash.Hash, body io.Reader, p Progress) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			if _, err := f.Write(buf[:k]); err != nil {
				return n, err
			}
			h.Write(buf[:k])
			n += int64(k)
			if p != nil {
				p.Advance(int64(k))
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// recordingClient is the client with a redirect hook that keeps the
// headers of the hub's own redirect response (which carry X-Linked-Etag,
// the sha256 of an LFS file, before the CDN answers).
func (c *Client) recordingClient() (*http.Client, *http.Header) {
	hc := *c.httpClient()
	linked := new(http.Header)
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) == 1 && req.Response != nil {
			*linked = req.Response.Header
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &hc, linked
}

// headerSHA256 is the sha256 the hub states in X-Linked-Etag (on its
// redirect to the CDN) or ETag, when either is a 64-digit hex string.
func headerSHA256(redirect, final http.Header) string {
	for _, v := range []string{redirect.Get("X-Linked-Etag"), final.Get("X-Linked-Etag"), redirect.Get("ETag"), final.Get("ETag")} {
		v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
		if isHex(v, 64) {
			return v
		}
	}
	return ""
}

// rangeStart is the first byte a 206 response holds, or -1.
func rangeStart(resp *http.Response) int64 {
	cr := resp.Header.Get("Content-Range") // "bytes START-END/TOTAL"
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return -1
	}
	start, _, _ := strings.Cut(rest, "-")
	n, err := strconv.ParseInt(start, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// truncate empties f and moves to its start.
func truncate(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// escapePath escapes each segment of a slash-separated path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
