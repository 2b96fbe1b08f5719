package replicas

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// nginxConf balances least-connections over the replicas. A replica that
// refuses a connection or fails is marked down for failTimeout, and the
// request goes to the next one, provided nothing has reached the client
// yet: completions have no side effects, so repeating one that a dead
// replica never answered is safe (non_idempotent lets nginx retry POSTs).
// A stream that has started cannot move, so it ends early and the client
// sees the error.
var nginxConf = template.Must(template.New("nginx").Parse(`daemon off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;
events { worker_connections 512; }
http {
	log_format upstreams '$msec|$status|$upstream_addr|$upstream_status|$request_time';
	access_log {{.Dir}}/access.log upstreams;
	client_body_temp_path {{.Dir}}/body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;
	upstream sieve {
		least_conn;
{{- range .Replicas}}
		server {{.}} max_fails=1 fail_timeout={{$.FailTimeout}};
{{- end}}
		keepalive 16;
	}
	server {
		listen {{.Listen}};
		location / {
			proxy_pass http://sieve;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_connect_timeout 1s;
			proxy_send_timeout 10s;
			proxy_read_timeout 30s;
			proxy_next_upstream error timeout http_502 http_503 non_idempotent;
			proxy_next_upstream_tries 3;
			proxy_next_upstream_timeout 5s;
		}
	}
}
`))

// failTimeout is how long nginx leaves a failed replica out.
const failTimeout = 2 * time.Second

// balancer is a running nginx.
type balancer struct {
	dir, listen string
	cmd         *exec.Cmd
}

// startNginx writes the config for the replicas' addresses and starts
// nginx in the foreground, listening on a free loopback port.
func startNginx(t *testing.T, dir string, replicas []string) *balancer {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("nginx is not installed (ci/replicas/run.sh installs Debian's package)")
		}
	}
	b := &balancer{dir: dir, listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))}
	f, err := os.Create(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	err = nginxConf.Execute(f, map[string]any{"Dir": dir, "Replicas": replicas, "Listen": b.listen,
		"FailTimeout": fmt.Sprintf("%ds", int(failTimeout/time.Second))})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	out, err := os.Create(filepath.Join(dir, "nginx.out"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stdout, b.cmd.Stderr = out, out
	if err := b.cmd.Start(); err != nil {
		out.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGQUIT) // graceful stop
		done := make(chan struct{})
		go func() { _ = b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = b.cmd.Process.Kill()
			<-done
		}
		out.Close()
	})
	for range 100 {
		if c, err := net.DialTimeout("tcp", b.listen, 100*time.Millisecond); err == nil {
			c.Close()
			return b
		}
		time.Sleep(50 * time.Millisecond)
	}
	errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("nginx did not start listening on %s:\n%s", b.listen, errLog)
	return nil
}
