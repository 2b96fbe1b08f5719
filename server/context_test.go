package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"sieve/internal/testmodels"
	"sieve/model/load"
)

// serveArgs runs Serve on stories260K (context 2048) with args until the
// test ends. It returns the base URL once /health answers 200, or the error
// Serve returned first.
func serveArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := ParseArgs(append([]string{"-m", testmodels.Path(t, "stories260K.gguf"), "--threads", "1"}, args...), &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, opts, load.Open, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		stop()
		<-served
	})
	base := "http://" + ln.Addr().String()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-served:
			served <- err // for the cleanup
			return "", err
		default:
		}
		if resp, err := http.Get(base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the server did not get ready")
	return "", nil
}

// TestServedContextFitsThePool is the recipe of a KV pool smaller than one
// full context: the advertised max_model_len is what the pool holds, and a
// chat request without max_tokens, which asks for the whole context, is
// served.
func TestServedContextFitsThePool(t *testing.T) {
	base, err := serveArgs(t, "--kv-cache-size", "1")
	if err != nil {
		t.Fatal(err)
	}
	card := modelsCard(t, base)
	if card.MaxModelLen <= 0 || card.MaxModelLen >= 2048 {
		t.Fatalf("max_model_len = %d, want the pool's share, below the model's 2048", card.MaxModelLen)
	}
	resp, err := http.Post(base+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"Once upon a time"}],"temperature":0,"stop":[" "]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("chat without max_tokens: status %d", resp.StatusCode)
	}
}

func TestMaxModelLen(t *testing.T) {
	base, err := serveArgs(t, "--max-model-len", "256")
	if err != nil {
		t.Fatal(err)
	}
	if got := modelsCard(t, base).MaxModelLen; got != 256 {
		t.Errorf("max_model_len = %d, want 256", got)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--max-model-len", "4096"}, []string{"4096", "2048"}},
		{[]string{"--max-model-len", "2048", "--kv-cache-size", "1"}, []string{"--max-model-len 2048", "1 MiB", "--kv-cache-size"}},
	} {
		_, err := serveArgs(t, tt.args...)
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: Serve = %v, want an error naming %q", tt.args, err, w)
			}
		}
	}
}

// modelsCard reads the one card of GET /v1/models.
func modelsCard(t *testing.T, base string) modelCard {
	t.Helper()
	resp, err := http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	list := decode[modelList](t, readAll(t, resp))
	if len(list.Data) != 1 {
		t.Fatalf("models %+v", list)
	}
	return list.Data[0]
}
