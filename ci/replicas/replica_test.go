package replicas

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// replica is one "sieve serve" process on a fixed loopback port, so that it
// can be restarted where nginx expects it.
type replica struct {
	name, bin, model string
	port             int
	logPath          string
	cmd              *exec.Cmd
	exited           chan error // receives the process's exit once
}

func (r *replica) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// start launches the process and waits until /health answers 200.
func (r *replica) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(r.bin, "serve", "-m", r.model, "--host", "127.0.0.1",
		"--port", strconv.Itoa(r.port), "--threads", "1", "--kv-cache-size", "32",
		"--shutdown-timeout", drainTimeout.String())
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	r.exited = make(chan error, 1)
	go func(cmd *exec.Cmd) {
		r.exited <- cmd.Wait()
		logf.Close()
	}(r.cmd)
	t.Cleanup(func() { r.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, err := healthStatus(r.addr()); err == nil && code == http.StatusOK {
			return
		}
		select {
		case err := <-r.exited:
			t.Fatalf("%s exited while starting (%v); log:\n%s", r.name, err, r.log())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not become healthy in 30s; log:\n%s", r.name, r.log())
}

// kill sends SIGKILL, if the process still runs, and reaps it.
func (r *replica) kill() {
	if r.cmd == nil || r.cmd.ProcessState != nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
	}
}

// signal sends sig to the process.
func (r *replica) signal(sig os.Signal) error { return r.cmd.Process.Signal(sig) }

// wait waits up to timeout for the process to exit and returns its exit
// error (nil for status 0).
func (r *replica) wait(timeout time.Duration) error {
	select {
	case err := <-r.exited:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("%s still running after %v", r.name, timeout)
	}
}

func (r *replica) log() string {
	b, _ := os.ReadFile(r.logPath)
	return string(b)
}
