package server

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"sieve/engine"
	"sieve/sparsity"
)

func TestParseArgs(t *testing.T) {
	spec := func(policy string, budget float64) sparsity.Spec {
		s, err := sparsity.ParseSpec(policy, budget, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{"defaults", []string{"-m", "../shared/models/stories260K.gguf"}, Options{
			Model: "../shared/models/stories260K.gguf", Host: "127.0.0.1", Port: 8000, ServedModelName: "stories260K",
			ShutdownTimeout: 30 * time.Second, HTTP: DefaultHTTPLimits(), CORS: DefaultCORS(), Engine: engine.Config{KV: spec("full", 0)}}},
		{"everything", []string{"-m", "m.bin", "-z", "tok.bin", "--host", "0.0.0.0", "--port", "9000",
			"--served-model-name", "tiny", "--api-key", "k", "--chat-template", "llama3", "--threads", "2",
			"--kv-cache-size", "2GiB", "--block-size", "32", "--kv-dtype", "f32", "--max-batch-tokens", "1024",
			"--max-seqs", "8", "--max-waiting", "5", "--shutdown-timeout", "3s", "--kv-policy", "h2o", "--kv-budget", "512",
			"--read-header-timeout", "2s", "--read-timeout", "5s", "--write-timeout", "6s", "--idle-timeout", "7s", "--max-connections", "9",
			"--max-model-len", "1024", "--parse-special-in-content", "--log-prompts",
			"--allowed-origins", `["http://a.example", "http://b.example"]`, "--allowed-methods", "GET,POST", "--allowed-headers", "Authorization",
			"--allow-credentials", "--tool-call-parser", "hermes"}, Options{
			Model: "m.bin", Tokenizer: "tok.bin", Host: "0.0.0.0", Port: 9000, ServedModelName: "tiny", APIKey: "k",
			ChatTemplate: "llama3", ShutdownTimeout: 3 * time.Second,
			MaxModelLen: 1024, ParseSpecialInContent: true, LogPrompts: true, ToolCallParser: "hermes",
			CORS: CORS{Origins: []string{"http://a.example", "http://b.example"}, Methods: []string{"GET", "POST"}, Headers: []string{"Authorization"}, Credentials: true},
			HTTP: HTTPLimits{ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 6 * time.Second, IdleTimeout: 7 * time.Second, MaxConnections: 9}, KV: engine.KVFlags{Policy: "h2o", Budget: 512, CacheMiB: 2048, DType: "f32"},
			Engine: engine.Config{Threads: 2, KVCacheMiB: 2048, BlockSize: 32, KVDType: "f32", MaxBatchTokens: 1024, MaxSeqs: 8, MaxWaiting: 5,
				KV: spec("h2o", 512)}}},
		{"vLLM and llama.cpp names", []string{"--model", "m.gguf", "--tokenizer", "tok.bin", "-t", "3",
			"--max-num-seqs", "4", "--max-num-batched-tokens", "256"}, Options{
			Model: "m.gguf", Tokenizer: "tok.bin", Host: "127.0.0.1", Port: 8000, ServedModelName: "m", ShutdownTimeout: 30 * time.Second,
			HTTP: DefaultHTTPLimits(), CORS: DefaultCORS(), Engine: engine.Config{Threads: 3, MaxSeqs: 4, MaxBatchTokens: 256, KV: spec("full", 0)}}},
		{"no model: left to the caller", []string{"--port", "1"}, Options{
			Host: "127.0.0.1", Port: 1, ShutdownTimeout: 30 * time.Second, HTTP: DefaultHTTPLimits(), CORS: DefaultCORS(), Engine: engine.Config{KV: spec("full", 0)}}},
		{"directory model name", []string{"-m", "/models/Llama-3.2-1B/"}, Options{
			Model: "/models/Llama-3.2-1B/", Host: "127.0.0.1", Port: 8000, ServedModelName: "Llama-3.2-1B", ShutdownTimeout: 30 * time.Second, HTTP: DefaultHTTPLimits(), CORS: DefaultCORS(),
			Engine: engine.Config{KV: spec("full", 0)}}},
		{"prefix caching off", []string{"--no-enable-prefix-caching"}, Options{
			Host: "127.0.0.1", Port: 8000, ShutdownTimeout: 30 * time.Second, HTTP: DefaultHTTPLimits(), CORS: DefaultCORS(), KV: engine.KVFlags{NoPrefixCaching: true},
			Engine: engine.Config{KV: spec("full", 0), DisablePrefixCaching: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want error
	}{
		{"bad port", []string{"-m", "x", "--port", "70000"}, ErrUsage},
		{"bad size", []string{"-m", "x", "--kv-cache-size", "lots"}, ErrUsage},
		{"unknown flag", []string{"-m", "x", "--bogus"}, ErrUsage},
		{"extra argument", []string{"-m", "x", "y"}, ErrUsage},
		{"unknown chat template", []string{"-m", "x", "--chat-template", "vicuna"}, ErrUsage},
		{"unknown policy", []string{"-m", "x", "--kv-policy", "lru"}, ErrUsage},
		{"negative budget", []string{"-m", "x", "--kv-policy", "h2o", "--kv-budget", "-3"}, ErrUsage},
		{"missing profile", []string{"-m", "x", "--kv-policy", "layered", "--profile", "/nonexistent.json"}, ErrUsage},
		{"zero header timeout", []string{"-m", "x", "--read-header-timeout", "0"}, ErrUsage},
		{"negative read timeout", []string{"-m", "x", "--read-timeout", "-1s"}, ErrUsage},
		{"negative connection cap", []string{"-m", "x", "--max-connections", "-1"}, ErrUsage},
		{"negative max model len", []string{"-m", "x", "--max-model-len", "-5"}, ErrUsage},
		{"unknown tool-call parser", []string{"-m", "x", "--tool-call-parser", "pythonic"}, ErrUsage},
		{"malformed origin list", []string{"-m", "x", "--allowed-origins", `["a"`}, ErrUsage},
		{"help", []string{"-h"}, flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseArgs(tt.args, io.Discard); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAPIKeyFromEnv(t *testing.T) {
	t.Setenv(APIKeyEnv, "from-env")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"environment", []string{"-m", "x"}, "from-env"},
		{"the flag wins", []string{"-m", "x", "--api-key", "from-flag"}, "from-flag"},
	}
	for _, tt := range tests {
		got, err := ParseArgs(tt.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got.APIKey != tt.want {
			t.Errorf("%s: APIKey = %q, want %q", tt.name, got.APIKey, tt.want)
		}
	}
}

func TestLogPrompts(t *testing.T) {
	for _, on := range []bool{false, true} {
		h := newHarness(t, Config{LogPrompts: on}, true)
		h.post("/v1/completions", `{"prompt":"secret words"}`)
		h.post("/v1/chat/completions", `{"messages":[{"role":"user","content":"private chat"}]}`)
		logs := h.logs.String()
		for _, text := range []string{"secret words", "private chat"} {
			if strings.Contains(logs, text) != on {
				t.Errorf("LogPrompts %v: prompt text %q in the logs: %v\n%s", on, text, !on, logs)
			}
		}
	}
}
