package replicas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"sieve/bench/serve"
	"sieve/internal/testmodels"
)

const (
	workers        = 6                // closed-loop clients; half of them stream
	outputTokens   = 256              // max_tokens of each request (EOS ignored)
	requestTimeout = 30 * time.Second // a request still open by then has hung
	drainTimeout   = 10 * time.Second // the replicas' --shutdown-timeout
	failFast       = 5 * time.Second  // how soon after the kill its requests must have failed
)

// phase is a stretch of the run and the requests that started in it.
type phase struct {
	Name   string       `json:"name"`
	Result serve.Result `json:"result"`
}

// report is the run's figures, logged and optionally written as JSON.
type report struct {
	Phases           []phase        `json:"phases"`
	Total            serve.Result   `json:"total"`
	FailedStreams    int            `json:"failed_streams"`
	FailedWhole      int            `json:"failed_non_streamed"`
	SlowestFailureMS float64        `json:"slowest_failure_after_kill_ms"`
	RetriedByNginx   int            `json:"retried_by_nginx"`
	PerReplica       map[string]int `json:"requests_per_replica"`
	RestartReadyMS   float64        `json:"restart_to_healthy_ms"`
	BackInRotationMS float64        `json:"kill_to_back_in_rotation_ms"`
	DrainHealth      string         `json:"health_after_sigterm"`
	DrainHealthMS    float64        `json:"sigterm_to_health_change_ms"`
	DrainExitMS      float64        `json:"sigterm_to_exit_ms"`
	DrainInFlight    map[int]int    `json:"drained_replica_statuses_after_sigterm"`
}

func TestReplicasBehindNginx(t *testing.T) {
	if os.Getenv("SIEVE_REPLICAS") != "1" {
		t.Skip("set SIEVE_REPLICAS=1 (ci/replicas/run.sh does) to run three replicas behind nginx")
	}
	dir := t.TempDir()
	bin := buildSieve(t, dir)
	model := testmodels.Path(t, "stories260K.gguf")
	reps := make([]*replica, 3)
	var addrs []string
	for i := range reps {
		reps[i] = &replica{name: fmt.Sprintf("replica %d", i), bin: bin, model: model,
			port: freePort(t), logPath: filepath.Join(dir, fmt.Sprintf("replica%d.log", i))}
		reps[i].start(t)
		addrs = append(addrs, reps[i].addr())
	}
	lb := startNginx(t, dir, addrs)
	prompt := serve.Prompt{Text: "Once upon a time", OutputLen: outputTokens}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan []outcome, 1)
	begin := time.Now()
	go func() { done <- driveLoad(ctx, "http://"+lb.listen, "stories260K", workers, prompt) }()
	var rep report

	// Three replicas, then one dies without warning.
	time.Sleep(4 * time.Second)
	killed := reps[0]
	killAt := time.Now()
	killed.kill()

	// Two replicas; then the dead one comes back on its port.
	time.Sleep(3 * time.Second)
	restartAt := time.Now()
	killed.start(t)
	readyAt := time.Now()
	rep.RestartReadyMS = ms(readyAt.Sub(restartAt))

	// Back to three (nginx retries it after failTimeout); then a rolling
	// update's SIGTERM drains another.
	time.Sleep(failTimeout + 2*time.Second)
	drained := reps[1]
	termAt := time.Now()
	if err := drained.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rep.DrainHealth, rep.DrainHealthMS = watchHealth(drained.addr(), time.Second)
	exitErr := drained.wait(drainTimeout + 5*time.Second)
	rep.DrainExitMS = ms(time.Since(termAt))
	time.Sleep(2 * time.Second)
	endAt := time.Now()
	stop()

	var outs []outcome
	select {
	case outs = <-done:
	case <-time.After(requestTimeout + 5*time.Second):
		t.Fatal("the load driver did not return: a request hung")
	}

	rep.Phases = []phase{
		{"3 replicas", summarize(between(outs, begin, killAt), killAt.Sub(begin))},
		{"replica 0 killed", summarize(between(outs, killAt, restartAt), restartAt.Sub(killAt))},
		{"replica 0 restarted", summarize(between(outs, restartAt, termAt), termAt.Sub(restartAt))},
		{"replica 1 draining", summarize(between(outs, termAt, endAt.Add(time.Minute)), endAt.Sub(termAt))},
	}
	rep.Total = summarize(outs, endAt.Sub(begin))

	// Only the requests in flight on the killed replica may fail, and they
	// must fail fast; everything else succeeds.
	for _, o := range outs {
		if o.OK() {
			continue
		}
		if o.stream {
			rep.FailedStreams++
		} else {
			rep.FailedWhole++
		}
		if !o.start.Before(killAt) || o.end.Sub(killAt) > failFast {
			t.Errorf("request %v..%v (stream %v) failed with %q; only those in flight at the kill (%v) may fail, within %v",
				o.start.Sub(begin), o.end.Sub(begin), o.stream, o.Err, killAt.Sub(begin), failFast)
		}
		rep.SlowestFailureMS = max(rep.SlowestFailureMS, ms(o.end.Sub(killAt)))
	}
	if rep.Phases[0].Result.Completed == 0 {
		t.Fatal("no request succeeded before the kill")
	}
	if after := summarize(between(outs, killAt, endAt), endAt.Sub(killAt)); after.Completed == 0 {
		t.Error("no request that started after the kill succeeded: the other replicas did not keep serving")
	}

	// nginx's view: retries, and when the restarted replica served again.
	rep.PerReplica = map[string]int{}
	name := map[string]string{}
	for _, r := range reps {
		name[r.addr()] = r.name
	}
	var back time.Time
	for _, e := range lb.accessLog(t) {
		if len(e.upstreams) > 1 {
			rep.RetriedByNginx++
		}
		if len(e.upstreams) == 0 {
			continue
		}
		last := e.upstreams[len(e.upstreams)-1]
		rep.PerReplica[name[last]]++
		if last == killed.addr() && e.start.After(readyAt) && (back.IsZero() || e.start.Before(back)) {
			back = e.start
		}
	}
	if back.IsZero() {
		t.Errorf("the restarted %s never served a request again", killed.name)
	} else {
		rep.BackInRotationMS = ms(back.Sub(killAt))
	}

	// Graceful shutdown: /health turns 503 at once, running requests
	// finish, and the process exits 0 within --shutdown-timeout.
	if rep.DrainHealth != fmt.Sprint(http.StatusServiceUnavailable) {
		t.Errorf("after SIGTERM, /health answered %s (after %.0f ms); want 503", rep.DrainHealth, rep.DrainHealthMS)
	}
	if exitErr != nil {
		t.Errorf("%s after SIGTERM: %v, want exit status 0; log:\n%s", drained.name, exitErr, tail(drained.log(), 20))
	}
	rep.DrainInFlight = drained.completionsAfter(termAt)
	if rep.DrainInFlight[http.StatusOK] == 0 {
		t.Errorf("%s finished no request after SIGTERM, so the drain went untested", drained.name)
	}
	for status, n := range rep.DrainInFlight {
		if status != http.StatusOK && status != http.StatusServiceUnavailable {
			t.Errorf("%s answered %d requests with %d after SIGTERM; want 200 (in flight) or 503 (refused)", drained.name, n, status)
		}
	}

	logReport(t, rep)
}

// watchHealth polls a replica's /health until it stops answering 200, and
// says what it answered instead (a status code or "refused") and when.
func watchHealth(addr string, limit time.Duration) (string, float64) {
	begin := time.Now()
	for time.Since(begin) < limit {
		code, err := healthStatus(addr)
		switch {
		case err != nil:
			return "refused", ms(time.Since(begin))
		case code != http.StatusOK:
			return fmt.Sprint(code), ms(time.Since(begin))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return "200", ms(limit)
}

// logReport logs the figures and writes them to $SIEVE_REPLICAS_REPORT.
func logReport(t *testing.T, rep report) {
	t.Helper()
	for _, p := range rep.Phases {
		r := p.Result
		t.Logf("%-20s %4d ok %3d failed  e2e p50 %6.0f ms  p90 %6.0f ms  %7.0f tok/s",
			p.Name, r.Completed, r.Failed, r.E2E.P50, r.E2E.P90, r.OutputTokS)
	}
	t.Logf("total: %d ok, %d failed (%d streams, %d non-streamed); slowest failure %.0f ms after the kill",
		rep.Total.Completed, rep.Total.Failed, rep.FailedStreams, rep.FailedWhole, rep.SlowestFailureMS)
	errs := make([]string, 0, len(rep.Total.Errors))
	for msg, n := range rep.Total.Errors {
		errs = append(errs, fmt.Sprintf("%dx %s", n, msg))
	}
	slices.Sort(errs)
	t.Logf("errors: %s", strings.Join(errs, "; "))
	t.Logf("nginx retried %d requests on another replica; requests per replica %v", rep.RetriedByNginx, rep.PerReplica)
	t.Logf("restart: healthy in %.0f ms; serving again %.0f ms after the kill", rep.RestartReadyMS, rep.BackInRotationMS)
	t.Logf("SIGTERM: /health %s after %.0f ms; exit after %.0f ms; completions it answered afterwards, by status: %v",
		rep.DrainHealth, rep.DrainHealthMS, rep.DrainExitMS, rep.DrainInFlight)
	if path := os.Getenv("SIEVE_REPLICAS_REPORT"); path != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(path, append(b, '\n'), 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
