package replicas

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// accessEntry is one request as nginx logged it.
type accessEntry struct {
	start     time.Time // when nginx read the request (its log time less $request_time)
	status    int
	upstreams []string // every replica tried, in order
}

// accessLog reads nginx's access log.
func (b *balancer) accessLog(t *testing.T) []accessEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(b.dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []accessEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "|")
		if len(fields) < 5 {
			t.Fatalf("short access log line %q", sc.Text())
		}
		end, err1 := strconv.ParseFloat(fields[0], 64)
		status, err2 := strconv.Atoi(fields[1])
		took, err3 := strconv.ParseFloat(fields[4], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("bad access log line %q", sc.Text())
		}
		e := accessEntry{start: time.UnixMilli(int64((end - took) * 1000)), status: status}
		// "$upstream_addr" lists the replicas tried: "A, B", or "A : B"
		// across an internal redirect.
		for _, u := range strings.FieldsFunc(fields[2], func(r rune) bool { return r == ',' || r == ' ' }) {
			if u != ":" && u != "-" {
				e.upstreams = append(e.upstreams, u)
			}
		}
		out = append(out, e)
	}
	return out
}

// completionsAfter counts, by status, the completion requests the replica
// logged as finished after t.
func (r *replica) completionsAfter(t time.Time) map[int]int {
	counts := map[int]int{}
	for _, line := range strings.Split(r.log(), "\n") {
		if !strings.Contains(line, `msg="http request"`) || !strings.Contains(line, "path=/v1/completions") {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, logField(line, "time"))
		status, serr := strconv.Atoi(logField(line, "status"))
		if err != nil || serr != nil || at.Before(t.Truncate(time.Millisecond)) {
			continue
		}
		counts[status]++
	}
	return counts
}

// logField is the value of key=value in a text log line.
func logField(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}
