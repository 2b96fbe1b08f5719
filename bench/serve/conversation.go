package serve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// ConversationConfig describes a multi-turn benchmark: Conversations
// conversations of Turns turns each, all started at once, each with one
// request in flight. Every turn sends the whole history (a shared prefix,
// earlier turns and their answers) and TurnLen new words, and asks for
// OutputLen answer tokens; the answer joins the history.
type ConversationConfig struct {
	// Conversations run at once; each has Turns turns.
	Conversations int
	Turns         int
	// TurnLen is the new words of each turn: appended to the prompt text
	// (completions) or a new user message (chat).
	TurnLen Range
	// OutputLen is each turn's max_tokens, EOS ignored.
	OutputLen Range
	// PrefixLen is the words of a system prompt every conversation starts
	// with (0: none): the prompt's start for completions, a system message
	// for chat.
	PrefixLen int
	// Seed draws the words: the same seed sends the same conversations.
	Seed uint64
}

// check reports a configuration that cannot run.
func (cfg ConversationConfig) check() error {
	switch {
	case cfg.Conversations < 1 || cfg.Turns < 1:
		return fmt.Errorf("serve bench: %d conversations of %d turns: want at least 1 of each", cfg.Conversations, cfg.Turns)
	case cfg.TurnLen.Min < 1 || cfg.OutputLen.Min < 1:
		return fmt.Errorf("serve bench: turns need at least 1 new word and 1 answer token")
	case cfg.PrefixLen < 0:
		return fmt.Errorf("serve bench: prefix length %d is negative", cfg.PrefixLen)
	}
	return nil
}

// ConversationResult is a multi-turn run: the figures over every request,
// as Run reports them, and each turn's.
type ConversationResult struct {
	Result
	Conversations int          `json:"conversations"`
	Turns         int          `json:"turns"`
	TurnLen       string       `json:"turn_len"`
	OutputLen     string       `json:"output_len"`
	PrefixLen     int          `json:"prefix_len"`
	PerTurn       []TurnResult `json:"per_turn"`
}

// TurnResult is one turn over all conversations. Its cached share comes
// from the responses' usage only (the server's counters do not say which
// turn a hit belongs to).
type TurnResult struct {
	Turn      int `json:"turn"` // from 1
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	// PromptTokens is the mean prompt length the server reported.
	PromptTokens float64 `json:"mean_prompt_tokens"`
	TTFTP50S     float64 `json:"ttft_p50_s"`
	TTFTP99S     float64 `json:"ttft_p99_s"`
	CacheUse
}

// conversation is one conversation's history as the next request sends it.
type conversation struct {
	chat     bool
	text     string    // completions: the prompt so far
	messages []Message // chat: the messages so far
}

// next returns the prompt of a turn that adds words to the history.
func (cv *conversation) next(words string, outputLen int) Prompt {
	if cv.chat {
		cv.messages = append(cv.messages, Message{Role: "user", Content: words})
		return Prompt{Messages: cv.messages, Text: words, OutputLen: outputLen}
	}
	if cv.text != "" {
		cv.text += " "
	}
	cv.text += words
	return Prompt{Text: cv.text, OutputLen: outputLen}
}

// answer adds a turn's answer to the history.
func (cv *conversation) answer(text string) {
	if cv.chat {
		cv.messages = append(cv.messages, Message{Role: "assistant", Content: text})
		return
	}
	cv.text += text
}

// RunConversations runs cfg's conversations against c's target and
// summarises every request and every turn. progress, which may be nil, is
// told of each finished request. A failed turn ends its conversation: its
// later turns count as failed, unsent.
func RunConversations(ctx context.Context, c *Client, cfg ConversationConfig, progress *Progress) (ConversationResult, error) {
	if err := cfg.check(); err != nil {
		return ConversationResult{}, err
	}
	if err := c.ResolveModel(ctx); err != nil {
		return ConversationResult{}, err
	}
	prefix := randomWords(rand.New(rand.NewPCG(cfg.Seed, 13)), cfg.PrefixLen)
	ms := make([][]Measurement, cfg.Conversations) // [conversation][turn]
	var wg sync.WaitGroup
	before, scraped := c.ScrapePrefixCache(ctx)
	start := time.Now()
	for i := range ms {
		ms[i] = make([]Measurement, cfg.Turns)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.Seed, 1<<20+uint64(i)))
			cv := conversation{chat: c.Target().Chat}
			switch {
			case cfg.PrefixLen > 0 && cv.chat:
				cv.messages = []Message{{Role: "system", Content: prefix}}
			case cfg.PrefixLen > 0:
				cv.text = prefix
			}
			for t := range ms[i] {
				p := cv.next(randomWords(rng, cfg.TurnLen.draw(rng)), cfg.OutputLen.draw(rng))
				ms[i][t] = c.Send(ctx, p)
				progress.Done(ms[i][t].OK())
				if !ms[i][t].OK() {
					for rest := t + 1; rest < cfg.Turns; rest++ {
						ms[i][rest].Err = fmt.Sprintf("not sent: turn %d failed", t+1)
						progress.Done(false)
					}
					return
				}
				cv.answer(ms[i][t].Text)
			}
		})
	}
	wg.Wait()
	progress.Finish()
	if err := ctx.Err(); err != nil {
		return ConversationResult{}, fmt.Errorf("serve bench: %w", err)
	}
	elapsed := time.Since(start)
	after, scrapedAfter := c.ScrapePrefixCache(ctx)
	return summarizeConversations(c.Target(), cfg, ms, elapsed, before, after, scraped && scrapedAfter), nil
}

// summarizeConversations computes a multi-turn run's figures from its
// measurements, [conversation][turn], and the prefix-cache counters
// scraped around it.
func summarizeConversations(t Target, cfg ConversationConfig, ms [][]Measurement, elapsed time.Duration, before, after PrefixCacheCounters, scraped bool) ConversationResult {
	var all []Measurement
	for _, conv := range ms {
		all = append(all, conv...)
	}
	res := ConversationResult{
		Result:        Summarize(all, elapsed),
		Conversations: cfg.Conversations,
		Turns:         cfg.Turns,
		TurnLen:       cfg.TurnLen.String(),
		OutputLen:     cfg.OutputLen.String(),
		PrefixLen:     cfg.PrefixLen,
	}
	res.CacheUse = cacheUse(all, before, after, scraped)
	res.Label, res.URL, res.Model, res.KVPolicy, res.KVBudget = t.Label, t.URL, t.Model, t.KVPolicy, t.KVBudget
	res.MaxConcurrency = cfg.Conversations
	for turn := range cfg.Turns {
		var tm []Measurement
		for _, conv := range ms {
			tm = append(tm, conv[turn])
		}
		s := Summarize(tm, 0)
		tr := TurnResult{Turn: turn + 1, Completed: s.Completed, Failed: s.Failed,
			TTFTP50S: s.TTFT.P50 / 1000, TTFTP99S: s.TTFT.P99 / 1000, CacheUse: cacheUse(tm, PrefixCacheCounters{}, PrefixCacheCounters{}, false)}
		if s.Completed > 0 {
			tr.PromptTokens = float64(s.InputTokens) / float64(s.Completed)
		}
		res.PerTurn = append(res.PerTurn, tr)
	}
	return res
}
