package soak

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Sample is the part of a server's /metrics a soak watches, each series
// summed over its labels.
type Sample struct {
	Goroutines   float64 `json:"goroutines"`     // go_goroutines
	HeapBytes    float64 `json:"heap_bytes"`     // go_memstats_heap_alloc_bytes
	RSSBytes     float64 `json:"rss_bytes"`      // process_resident_memory_bytes
	KVBlocksUsed float64 `json:"kv_blocks_used"` // sieve_kv_blocks_used
	Running      float64 `json:"running"`        // vllm:num_requests_running
	Waiting      float64 `json:"waiting"`        // vllm:num_requests_waiting
	// Missing lists the watched series the exposition lacked.
	Missing []string `json:"missing,omitempty"`
}

// watched maps exposition names to the sample's fields.
func (s *Sample) watched() map[string]*float64 {
	return map[string]*float64{
		"go_goroutines":                 &s.Goroutines,
		"go_memstats_heap_alloc_bytes":  &s.HeapBytes,
		"process_resident_memory_bytes": &s.RSSBytes,
		"sieve_kv_blocks_used":          &s.KVBlocksUsed,
		"vllm:num_requests_running":     &s.Running,
		"vllm:num_requests_waiting":     &s.Waiting,
	}
}

// ParseMetrics reads the watched series from a Prometheus text exposition.
func ParseMetrics(r io.Reader) (Sample, error) {
	var s Sample
	seen, err := SumSeries(r, s.watched())
	if err != nil {
		return s, err
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
		"sieve_kv_blocks_used", "vllm:num_requests_running", "vllm:num_requests_waiting"} {
		if !seen[name] {
			s.Missing = append(s.Missing, name)
		}
	}
	return s, nil
}

// SumSeries reads a Prometheus text exposition and adds each sample of a
// metric named in dst to the value dst maps the name to (so a series is
// summed over its labels). It returns the names it found.
func SumSeries(r io.Reader, dst map[string]*float64) (map[string]bool, error) {
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		into, ok := dst[name]
		if !ok {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				return seen, fmt.Errorf("metrics: bad sample line %q", line)
			}
			rest = rest[end+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return seen, fmt.Errorf("metrics: sample line without a value: %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return seen, fmt.Errorf("metrics: %q: %w", line, err)
		}
		*into += v
		seen[name] = true
	}
	if err := sc.Err(); err != nil {
		return seen, fmt.Errorf("metrics: %w", err)
	}
	return seen, nil
}

// scrape reads url's /metrics.
func scrape(ctx context.Context, hc *http.Client, url string) (Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return Sample{}, fmt.Errorf("metrics: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Sample{}, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sample{}, fmt.Errorf("metrics: GET /metrics: %s", resp.Status)
	}
	return ParseMetrics(resp.Body)
}
