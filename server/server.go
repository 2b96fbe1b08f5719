// Package server is Sieve's OpenAI-compatible HTTP API: POST
// /v1/completions and /v1/chat/completions (whole, or streamed as
// server-sent events ending in "data: [DONE]"), GET /v1/models, POST
// /tokenize and /detokenize, GET /version, GET /health (503 until the
// model is loaded) and GET /metrics (Prometheus, with vLLM's metric
// names). With an API key set, the /v1/ endpoints, /tokenize and
// /detokenize require it as a Bearer token; /health, /version and
// /metrics stay open for probes and scrapers. Errors use OpenAI's
// {"error": {...}} shape.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"sieve/engine"
	"sieve/tokenizer"
)

// DefaultMaxBodyBytes bounds a request body unless Config says otherwise.
const DefaultMaxBodyBytes = 4 << 20

// Generator runs generation requests; *engine.Engine is one.
type Generator interface {
	// Submit queues a request and returns its event stream.
	Submit(ctx context.Context, r engine.Request) (<-chan engine.Event, error)
	// Stats reports the engine's state; the metrics read it at scrape time.
	Stats() engine.Stats
}

// Config configures a Server.
type Config struct {
	// ModelName is the served model id that requests may name.
	ModelName string
	// APIKey, when set, is required as "Authorization: Bearer KEY" on /v1/
	// endpoints (/health and /metrics stay open).
	APIKey string
	// ChatTemplate overrides the model's chat template: a built-in name
	// (llama2, llama3, chatml) or the path of a Jinja file.
	ChatTemplate string
	// ParseSpecialInContent tokenizes special-token text in chat message
	// content as special tokens, as Sieve did before; by default it is
	// plain text, as OpenAI treats it.
	ParseSpecialInContent bool
	// LogPrompts writes each generation's prompt text to the log; without
	// it the logs hold no prompt or completion text.
	LogPrompts bool
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ReadTimeout bounds the time to receive a request body; WriteTimeout
	// bounds each write of a response (each streamed event). 0 is no limit.
	ReadTimeout, WriteTimeout time.Duration
	// CORS says which cross-origin browser requests are allowed; the zero
	// value allows none.
	CORS CORS
	// ToolCallParser names the format tool calls are read in (llama3_json,
	// hermes, mistral); empty detects it from the chat template.
	ToolCallParser string
}

// Backend is the loaded model the server generates with.
type Backend struct {
	Generator  Generator
	Tokenizer  tokenizer.Tokenizer
	ContextLen int // the model's context length in tokens
	// ChatTemplate is the Jinja chat template the model file carries, if any.
	ChatTemplate string
}

// backend is a Backend made ready to serve.
type backend struct {
	Backend
	chat    chatTemplate
	bos     string // BOS token text, for templates and double-BOS checks
	addBOS  bool   // whether prompts start with BOS
	created int64
	// maxTextBytes is the longest text that can fit the context: longer
	// prompts are refused before they are tokenized (see textLimit).
	maxTextBytes int
	// specials finds special-token text in message content; nil when
	// Config.ParseSpecialInContent lets it through.
	specials *specialSet
	// toolParser reads tool calls from the model's output under
	// tool_choice "auto".
	toolParser toolCallParser
	// grammars caches the compiled output constraints (structured outputs).
	grammars *grammarCache
}

// Server is the HTTP handler. It answers 503 on everything but /metrics
// until SetBackend is called.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	handler http.Handler
	ready   atomic.Pointer[backend]
	drain   drainState
	unknown unknownFields // request field names already warned about
}

// New returns a server with no model loaded yet.
func New(cfg Config, log *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{cfg: cfg, log: log}
	s.metrics = newMetrics(cfg.ModelName, s.stats)
	s.handler = s.middleware(s.cors(s.routes()))
	return s
}

// SetBackend installs the loaded model and marks the server ready: /health
// answers 200 from then on. It fails if the chat template does not compile.
func (s *Server) SetBackend(b Backend) error {
	if b.Generator == nil || b.Tokenizer == nil || b.ContextLen <= 0 {
		return fmt.Errorf("server: backend needs a generator, a tokenizer and a context length")
	}
	bos := tokenText(b.Tokenizer, b.Tokenizer.BOS())
	eos := tokenText(b.Tokenizer, b.Tokenizer.EOS())
	chat, err := selectTemplate(s.cfg.ChatTemplate, b.ChatTemplate, bos, eos, s.log)
	if err != nil {
		return err
	}
	parserName := s.cfg.ToolCallParser
	if parserName == "" {
		parserName = detectParser(templateSource(chat))
	}
	parser, err := newToolCallParser(parserName)
	if err != nil {
		return err
	}
	s.log.Info("tool calls", "parser", parserName)
	var specials *specialSet
	if !s.cfg.ParseSpecialInContent {
		set := newSpecialSet(b.Tokenizer)
		specials = &set
	}
	s.ready.Store(&backend{
		Backend: b,
		chat:    chat,
		bos:     bos,
		addBOS:  addsBOS(b.Tokenizer),
		created: time.Now().Unix(),
		// The context's tokens can hold at most this much text.
		maxTextBytes: textLimit(b.Tokenizer, b.ContextLen),
		specials:     specials,
		toolParser:   parser,
		grammars:     newGrammarCache(b.Tokenizer),
	})
	s.metrics.loaded.Set(1)
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// stats reads the engine's stats for the metrics; ok is false before the
// model is loaded.
func (s *Server) stats() (st engine.Stats, ok bool) {
	b := s.ready.Load()
	if b == nil {
		return st, false
	}
	return b.Generator.Stats(), true
}

// routes maps the API's paths to handlers.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/completions", s.auth(allow(http.MethodPost, s.needBackend(s.handleCompletions))))
	mux.Handle("/v1/chat/completions", s.auth(allow(http.MethodPost, s.needBackend(s.handleChat))))
	mux.Handle("/v1/models", s.auth(allow(http.MethodGet, s.needBackend(s.handleModels))))
	mux.Handle("/v1/models/{model...}", s.auth(allow(http.MethodGet, s.needBackend(s.handleModel))))
	mux.Handle("/tokenize", s.auth(allow(http.MethodPost, s.needBackend(s.handleTokenize))))
	mux.Handle("/detokenize", s.auth(allow(http.MethodPost, s.needBackend(s.handleDetokenize))))
	mux.Handle("/version", allow(http.MethodGet, handleVersion()))
	mux.Handle("/health", allow(http.MethodGet, http.HandlerFunc(s.handleHealth)))
	mux.Handle("/metrics", allow(http.MethodGet, s.metrics.handler()))
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, kind: typeNotFound, code: "not_found",
			message: fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path)})
	})
	// Every /v1/ path needs the key, unknown ones too (as vLLM's
	// middleware does), so that a client without it learns nothing.
	mux.Handle("/v1/", s.auth(notFound))
	mux.Handle("/", notFound)
	return mux
}

// backendHandler is a handler that needs the loaded model.
type backendHandler func(w http.ResponseWriter, r *http.Request, b *backend)

// needBackend answers 503 until the model is loaded.
func (s *Server) needBackend(h backendHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := s.ready.Load()
		if b == nil {
			writeError(w, &apiError{status: http.StatusServiceUnavailable, kind: typeUnavailable,
				code: "model_loading", message: "the model is still loading; retry shortly"})
			return
		}
		if !s.drain.enter() {
			shuttingDown(w)
			return
		}
		defer s.drain.leave()
		h(w, r, b)
	})
}

// allow answers 405 to methods other than method (and HEAD for GET).
func allow(method string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, kind: typeInvalidRequest,
				code: "method_not_allowed", message: fmt.Sprintf("%s %s is not allowed; use %s", r.Method, r.URL.Path, method)})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// handleHealth answers 200 once the model is loaded, 503 before and from
// the start of a shutdown.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.drain.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	if s.ready.Load() == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "loading"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleModels lists the served model.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request, b *backend) {
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelCard{s.card(b)}})
}

// handleModel describes the served model, or 404s for any other.
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request, b *backend) {
	if name := r.PathValue("model"); name != s.cfg.ModelName {
		writeError(w, modelNotFound(name))
		return
	}
	writeJSON(w, http.StatusOK, s.card(b))
}

func (s *Server) card(b *backend) modelCard {
	return modelCard{ID: s.cfg.ModelName, Object: "model", Created: b.created, OwnedBy: "sieve", MaxModelLen: b.ContextLen}
}
