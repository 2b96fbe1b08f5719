package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sieve/engine"
	"sieve/internal/cli"
)

// ErrUsage marks a command-line error that has already been reported.
var ErrUsage = errors.New("usage error")

// APIKeyEnv names the environment variable that sets --api-key when the
// flag is absent (vLLM reads VLLM_API_KEY the same way); it keeps the key
// out of the process list.
const APIKeyEnv = "SIEVE_API_KEY"

// Options are the settings of "sieve serve".
type Options struct {
	Model           string // model file or directory; empty leaves the choice to the caller
	Tokenizer       string // tokenizer file overriding the model's
	Host            string
	Port            int
	ServedModelName string
	APIKey          string
	ChatTemplate    string
	ShutdownTimeout time.Duration
	// ParseSpecialInContent and LogPrompts: see Config.
	ParseSpecialInContent bool
	LogPrompts            bool
	// MaxModelLen lowers the context length served (0: the model's, or
	// what the KV pool holds when that is less).
	MaxModelLen int
	HTTP        HTTPLimits
	// CORS is the cross-origin policy (--allowed-origins and friends).
	CORS CORS
	// ToolCallParser: see Config.
	ToolCallParser string
	Engine         engine.Config
	// KV holds the KV flags: the pool, and the server's default sparsity,
	// which requests may override. ParseArgs applies them to Engine.
	KV engine.KVFlags
}

// NewFlagSet returns the flags of "sieve serve", writing into opts.
func NewFlagSet(opts *Options, stderr io.Writer) *flag.FlagSet {
	fs := cli.NewFlagSet("sieve serve", stderr)
	fs.StringVar(&opts.Model, "m", "", "model: a .gguf file, a llama2.c .bin checkpoint, a Hugging Face directory, hf://ORG/NAME[/FILE] or demo (default: SmolLM2-135M-Instruct from the hub, or the built-in demo offline)")
	fs.StringVar(&opts.Tokenizer, "z", "", "tokenizer file (required for llama2.c checkpoints)")
	fs.StringVar(&opts.Host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&opts.Port, "port", 8000, "port to listen on (0 picks a free one)")
	fs.StringVar(&opts.ServedModelName, "served-model-name", "", "model id clients use (default: the model file's base name without extension)")
	fs.StringVar(&opts.APIKey, "api-key", "", "require \"Authorization: Bearer KEY\" on /v1/ endpoints (/health and /metrics stay open; default: $"+APIKeyEnv+")")
	fs.StringVar(&opts.ChatTemplate, "chat-template", "", "chat template: llama2, llama3, chatml, or a Jinja file (default: the model's own)")
	fs.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "on SIGTERM, how long running requests may take to finish before they are cancelled")
	h, def := &opts.HTTP, DefaultHTTPLimits()
	fs.DurationVar(&h.ReadHeaderTimeout, "read-header-timeout", def.ReadHeaderTimeout, "how long a client may take to send the request headers")
	fs.DurationVar(&h.ReadTimeout, "read-timeout", def.ReadTimeout, "how long a client may take to send the request body, once the headers are in (0: no limit)")
	fs.DurationVar(&h.WriteTimeout, "write-timeout", def.WriteTimeout, "how long one write of a response (one streamed event) may wait for a client that does not read (0: no limit)")
	fs.DurationVar(&h.IdleTimeout, "idle-timeout", def.IdleTimeout, "how long an idle keep-alive connection stays open")
	fs.IntVar(&h.MaxConnections, "max-connections", def.MaxConnections, "most client connections open at once; at the limit the longest-idle one is closed, or a newcomer gets 503 (0: no limit)")
	fs.BoolVar(&opts.ParseSpecialInContent, "parse-special-in-content", false, "tokenize special-token text in chat message content (\"<|eot_id|>\", \"</s>\") as control tokens; by default it is plain text, so users cannot forge turns")
	fs.BoolVar(&opts.LogPrompts, "log-prompts", false, "write each request's prompt text to the log (off: logs hold token counts only)")
	fs.IntVar(&opts.MaxModelLen, "max-model-len", 0, "context length to serve, prompt + completion (default: the model's, lowered with a warning to what the KV pool holds)")
	e := &opts.Engine
	fs.IntVar(&e.Threads, "threads", 0, "kernel worker threads (default: all CPUs)")
	opts.KV.AddCache(fs)
	fs.IntVar(&e.BlockSize, "block-size", 0, "token slots per KV cache block (default 16)")
	fs.IntVar(&e.MaxBatchTokens, "max-num-batched-tokens", 0, fmt.Sprintf("most tokens in one forward pass (default %d)", engine.DefaultMaxBatchTokens))
	fs.IntVar(&e.MaxSeqs, "max-num-seqs", 0, fmt.Sprintf("most sequences running at once (default %d)", engine.DefaultMaxSeqs))
	fs.IntVar(&e.MaxWaiting, "max-waiting", 0, fmt.Sprintf("most requests waiting for admission; more get 429 (default %d)", engine.DefaultMaxWaiting))
	opts.KV.AddSpec(fs, "prompt + max_tokens")
	// vLLM's and llama.cpp's names, and the earlier ones.
	cli.Alias(fs, "m", "model")
	cli.Alias(fs, "z", "tokenizer")
	cli.Alias(fs, "threads", "t")
	cli.Alias(fs, "max-num-seqs", "max-seqs")
	cli.Alias(fs, "max-num-batched-tokens", "max-batch-tokens")
	opts.CORS = DefaultCORS()
	fs.Var(listFlag{&opts.CORS.Origins}, "allowed-origins", "origins allowed to call the server from a browser, a JSON list or comma-separated (\"*\" for any; default: none, so no web page can read a local server's answers)")
	fs.Var(listFlag{&opts.CORS.Methods}, "allowed-methods", "methods allowed cross-origin, a JSON list or comma-separated (\"*\" for any)")
	fs.Var(listFlag{&opts.CORS.Headers}, "allowed-headers", "request headers allowed cross-origin, a JSON list or comma-separated (\"*\" for any)")
	fs.StringVar(&opts.ToolCallParser, "tool-call-parser", "", "format of the model's tool calls: llama3_json, hermes or mistral (default: detected from the chat template)")
	fs.BoolVar(&opts.CORS.Credentials, "allow-credentials", false, "let allowed origins send cookies and Authorization cross-origin")
	return fs
}

// ParseArgs parses the arguments of "sieve serve". Errors wrap ErrUsage
// (already reported on stderr) or flag.ErrHelp.
func ParseArgs(args []string, stderr io.Writer) (Options, error) {
	var opts Options
	fs := NewFlagSet(&opts, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opts, err
		}
		return opts, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	fail := func(format string, a ...any) (Options, error) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintln(stderr, "sieve serve: "+msg)
		fs.Usage()
		return opts, fmt.Errorf("%w: %s", ErrUsage, msg)
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case opts.Port < 0 || opts.Port > 65535:
		return fail("--port %d is out of range", opts.Port)
	case opts.MaxModelLen < 0:
		return fail("--max-model-len %d is negative", opts.MaxModelLen)
	case opts.HTTP.ReadHeaderTimeout <= 0 || opts.HTTP.IdleTimeout <= 0:
		return fail("--read-header-timeout and --idle-timeout must be positive")
	case opts.HTTP.ReadTimeout < 0 || opts.HTTP.WriteTimeout < 0 || opts.HTTP.MaxConnections < 0:
		return fail("--read-timeout, --write-timeout and --max-connections must not be negative")
	}
	if t := opts.ChatTemplate; t != "" && builtinTemplates[t] == "" {
		if _, err := os.Stat(t); err != nil {
			return fail("--chat-template %q is neither llama2, llama3, chatml nor a readable file", t)
		}
	}
	if opts.ToolCallParser != "" {
		if _, err := newToolCallParser(opts.ToolCallParser); err != nil {
			return fail("--tool-call-parser: %v", err)
		}
	}
	if err := opts.KV.Apply(&opts.Engine); err != nil {
		return fail("%v", err)
	}
	if opts.APIKey == "" {
		opts.APIKey = os.Getenv(APIKeyEnv)
	}
	if opts.ServedModelName == "" && opts.Model != "" {
		opts.ServedModelName = DefaultModelName(opts.Model)
	}
	return opts, nil
}

// DefaultModelName is the served name of a model path: its base name
// without extension ("models/stories260K.gguf" serves as "stories260K"),
// or a directory's whole name ("Llama-3.2-1B/").
func DefaultModelName(path string) string {
	base := filepath.Base(filepath.Clean(path))
	if st, err := os.Stat(path); (err == nil && st.IsDir()) || strings.HasSuffix(path, "/") {
		return base
	}
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}
