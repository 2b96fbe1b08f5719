package server

import (
	"net/http"
	"runtime/debug"

	"sieve/tokenizer"
)

// tokenizeRequest is the body of POST /tokenize (vLLM's shape): a prompt,
// tokenized as /v1/completions does, or messages, rendered and tokenized
// as /v1/chat/completions does.
type tokenizeRequest struct {
	Model    string        `json:"model"`
	Prompt   *string       `json:"prompt"`
	Messages []chatMessage `json:"messages"`
	// AddSpecialTokens adds BOS to a prompt when the model wants it
	// (default true, as vLLM); a conversation's tokens are always the
	// ones /v1/chat/completions would see.
	AddSpecialTokens *bool `json:"add_special_tokens"`
	// ReturnTokenStrs adds each token's vocabulary text.
	ReturnTokenStrs bool `json:"return_token_strs"`
	toolFields
}

// tokenizeResponse is the answer of POST /tokenize.
type tokenizeResponse struct {
	Count       int      `json:"count"`
	MaxModelLen int      `json:"max_model_len"`
	Tokens      []int32  `json:"tokens"`
	TokenStrs   []string `json:"token_strs"`
}

// detokenizeRequest is the body of POST /detokenize.
type detokenizeRequest struct {
	Model  string  `json:"model"`
	Tokens []int64 `json:"tokens"`
}

// detokenizeResponse is the answer of POST /detokenize.
type detokenizeResponse struct {
	Prompt string `json:"prompt"`
}

// handleTokenize serves POST /tokenize.
func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request, b *backend) {
	var req tokenizeRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.fail(w, r, fromEngine(err))
		return
	}
	if ae := s.checkModel(req.Model); ae != nil {
		s.fail(w, r, ae)
		return
	}
	var ids []int32
	switch {
	case req.Prompt != nil && req.Messages != nil:
		s.fail(w, r, badRequest("messages", "send either prompt or messages, not both"))
		return
	case req.Prompt != nil:
		if n := len(*req.Prompt); n > b.maxTextBytes {
			s.fail(w, r, textTooLong(b, "prompt", n))
			return
		}
		addBOS := b.addBOS && (req.AddSpecialTokens == nil || *req.AddSpecialTokens)
		ids = b.Tokenizer.Encode(*req.Prompt, tokenizer.EncodeOptions{AddBOS: addBOS})
	default:
		tools, ae := req.toolFields.templateTools()
		if ae != nil {
			s.fail(w, r, ae)
			return
		}
		if ids, ae = chatPrompt(r.Context(), b, req.Messages, tools); ae != nil {
			s.fail(w, r, ae)
			return
		}
	}
	resp := tokenizeResponse{Count: len(ids), MaxModelLen: b.ContextLen, Tokens: ids}
	if resp.Tokens == nil {
		resp.Tokens = []int32{}
	}
	if req.ReturnTokenStrs {
		resp.TokenStrs = make([]string, len(ids))
		for i, id := range ids {
			resp.TokenStrs[i] = tokenString(b.Tokenizer, id)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// tokenString is a token's vocabulary text ("▁Once" for SentencePiece),
// or its decoded text when the tokenizer keeps none.
func tokenString(tok tokenizer.Tokenizer, id int32) string {
	if t, ok := tok.(interface{ TokenText(id int32) string }); ok {
		if s := t.TokenText(id); s != "" {
			return s
		}
	}
	return tok.Decode([]int32{id})
}

// handleDetokenize serves POST /detokenize.
func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request, b *backend) {
	var req detokenizeRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.fail(w, r, fromEngine(err))
		return
	}
	if ae := s.checkModel(req.Model); ae != nil {
		s.fail(w, r, ae)
		return
	}
	vocab := b.Tokenizer.VocabSize()
	ids := make([]int32, len(req.Tokens))
	for i, id := range req.Tokens {
		if id < 0 || id >= int64(vocab) {
			s.fail(w, r, badRequest("tokens", "token id %d at position %d is outside the vocabulary [0, %d)", id, i, vocab))
			return
		}
		ids[i] = int32(id)
	}
	writeJSON(w, http.StatusOK, detokenizeResponse{Prompt: b.Tokenizer.Decode(ids)})
}

// handleVersion serves GET /version: the module version the binary was
// built as (a tag or a pseudo-version with the commit), or "devel".
func handleVersion() http.Handler {
	version := "devel"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	body := map[string]string{"version": version}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, body)
	})
}
