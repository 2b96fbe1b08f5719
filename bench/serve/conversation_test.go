package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// runFakeConversations runs cfg against a fake server f.
func runFakeConversations(t *testing.T, f *fakeServer, chat bool, cfg ConversationConfig) ConversationResult {
	t.Helper()
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	c := NewClient(Target{URL: ts.URL, Chat: chat, Stream: true, Label: "fake"}, nil)
	res, err := RunConversations(context.Background(), c, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A conversation's turn t (from 1) sends t turns of 4 new words each, and
// the fake's answer of 2 tokens is "abab", glued to the last word for
// completions, so a completions prompt of turn t has 4t words; of those,
// the 4(t-1) of the previous turn's prompt and answer are cached.
func TestConversationsSendGrowingHistory(t *testing.T) {
	const convs, turns, words, answer = 3, 3, 4, 2
	cfg := ConversationConfig{Conversations: convs, Turns: turns, TurnLen: Range{words, words}, OutputLen: Range{answer, answer}, Seed: 5}
	t.Run("completions", func(t *testing.T) {
		f := &fakeServer{first: time.Millisecond, prefixCache: true}
		res := runFakeConversations(t, f, false, cfg)
		byTurn := map[int][]string{}
		for _, b := range f.bodies {
			if b["max_tokens"] != float64(answer) || b["ignore_eos"] != true || b["temperature"] != 0.0 {
				t.Fatalf("request body %v", b)
			}
			p := b["prompt"].(string)
			byTurn[len(strings.Fields(p))/words] = append(byTurn[len(strings.Fields(p))/words], p)
		}
		for turn := 1; turn <= turns; turn++ {
			if len(byTurn[turn]) != convs {
				t.Fatalf("%d prompts of turn %d, want %d: %v", len(byTurn[turn]), turn, convs, byTurn)
			}
			for _, p := range byTurn[turn] {
				if len(strings.Fields(p)) != turn*words {
					t.Fatalf("turn %d prompt of %d words: %q", turn, len(strings.Fields(p)), p)
				}
				if turn == 1 {
					continue
				}
				found := false
				for _, prev := range byTurn[turn-1] {
					found = found || strings.HasPrefix(p, prev+"abab ")
				}
				if !found {
					t.Errorf("turn %d prompt %q does not extend a turn %d prompt and its answer", turn, p, turn-1)
				}
			}
		}
		if res.Completed != convs*turns || res.Failed != 0 || res.OutputTokens != convs*turns*answer || res.MaxConcurrency != convs {
			t.Fatalf("result %+v", res.Result)
		}
		for i, tr := range res.PerTurn {
			turn := i + 1
			want := float64(turn-1) / float64(turn)
			if tr.Turn != turn || tr.Completed != convs || tr.PromptTokens != float64(turn*words) || tr.Share == nil || math.Abs(*tr.Share-want) > 1e-9 {
				t.Errorf("turn %d: %+v (share want %v)", turn, tr, want)
			}
		}
		// (0+4+8) cached of (4+8+12) prompt words per conversation.
		if res.Share == nil || math.Abs(*res.Share-0.5) > 1e-9 || res.Source != CachedFromUsage || res.Tokens != convs*12 {
			t.Errorf("cache use %+v", res.CacheUse)
		}
	})
	t.Run("chat", func(t *testing.T) {
		f := &fakeServer{first: time.Millisecond}
		res := runFakeConversations(t, f, true, cfg)
		var all [][]any
		for _, b := range f.bodies {
			all = append(all, b["messages"].([]any))
		}
		for _, msgs := range all {
			if len(msgs)%2 != 1 || len(msgs) > 2*turns-1 {
				t.Fatalf("%d messages", len(msgs))
			}
			for j, m := range msgs {
				m := m.(map[string]any)
				role, content := m["role"].(string), m["content"].(string)
				if j%2 == 0 && (role != "user" || len(strings.Fields(content)) != words) || j%2 == 1 && (role != "assistant" || content != "abab") {
					t.Fatalf("message %d: %v", j, m)
				}
			}
			if len(msgs) == 1 {
				continue
			}
			found := false
			for _, prev := range all {
				found = found || reflect.DeepEqual(prev, msgs[:len(msgs)-2])
			}
			if !found {
				t.Errorf("messages %v do not extend an earlier request's", msgs)
			}
		}
		if len(all) != convs*turns || res.Completed != convs*turns {
			t.Fatalf("%d requests, %d completed", len(all), res.Completed)
		}
	})
}

func TestConversationsSharedPrefix(t *testing.T) {
	f := &fakeServer{first: time.Millisecond, prefixCache: true}
	cfg := ConversationConfig{Conversations: 4, Turns: 1, TurnLen: Range{3, 3}, OutputLen: Range{1, 1}, PrefixLen: 6, Seed: 2}
	res := runFakeConversations(t, f, false, cfg)
	var prefix string
	for i, b := range f.bodies {
		w := strings.Fields(b["prompt"].(string))
		if len(w) != 9 {
			t.Fatalf("prompt %q: want 6 prefix and 3 new words", w)
		}
		if p := strings.Join(w[:6], " "); i == 0 {
			prefix = p
		} else if p != prefix {
			t.Errorf("prefix %q, want %q", p, prefix)
		}
	}
	if res.PrefixLen != 6 || res.Completed != 4 {
		t.Errorf("%+v", res)
	}
}

func TestConversationsCachedShareSources(t *testing.T) {
	cfg := ConversationConfig{Conversations: 2, Turns: 3, TurnLen: Range{4, 4}, OutputLen: Range{2, 2}, Seed: 9}
	for _, tc := range []struct {
		name   string
		f      *fakeServer
		share  float64 // -1: n/a
		source string
	}{
		{"usage", &fakeServer{prefixCache: true}, 0.5, CachedFromUsage},
		{"metrics", &fakeServer{prefixCache: true, cacheInMetrics: true}, 0.5, CachedFromMetrics},
		{"neither", &fakeServer{}, -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runFakeConversations(t, tc.f, false, cfg)
			if tc.share < 0 {
				if res.Share != nil || res.Source != "" || res.CacheUse.String() != "n/a" {
					t.Fatalf("cache use %+v, want n/a", res.CacheUse)
				}
			} else if res.Share == nil || math.Abs(*res.Share-tc.share) > 1e-9 || res.Source != tc.source {
				t.Fatalf("cache use %+v, want %v from %s", res.CacheUse, tc.share, tc.source)
			}
			if tc.source != CachedFromUsage && res.PerTurn[1].Share != nil {
				t.Errorf("turn 2 has a share %v without usage figures", *res.PerTurn[1].Share)
			}
			var out bytes.Buffer
			if err := WriteConversationReport(&out, res); err != nil {
				t.Fatal(err)
			}
			if want := res.CacheUse.String(); !strings.Contains(out.String(), want) || strings.Count(out.String(), "\n    3 ") != 1 {
				t.Errorf("report lacks %q or turn 3:\n%s", want, out.String())
			}
		})
	}
}

func TestConversationsFailedTurnEndsConversation(t *testing.T) {
	f := &fakeServer{status: http.StatusTooManyRequests}
	res := runFakeConversations(t, f, false, ConversationConfig{Conversations: 2, Turns: 3, TurnLen: Range{2, 2}, OutputLen: Range{1, 1}})
	if len(f.bodies) != 2 || res.Completed != 0 || res.Failed != 6 {
		t.Fatalf("%d requests sent, %d completed, %d failed; want 2, 0, 6", len(f.bodies), res.Completed, res.Failed)
	}
	if res.Errors["not sent: turn 1 failed"] != 4 || res.PerTurn[2].Failed != 2 {
		t.Errorf("errors %v, turn 3 %+v", res.Errors, res.PerTurn[2])
	}
}

func TestConversationResultJSON(t *testing.T) {
	res := runFakeConversations(t, &fakeServer{prefixCache: true}, false,
		ConversationConfig{Conversations: 1, Turns: 2, TurnLen: Range{3, 3}, OutputLen: Range{1, 1}})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Label         string   `json:"label"`
		Conversations int      `json:"conversations"`
		Turns         int      `json:"turns"`
		Completed     int      `json:"completed"`
		OutputTokS    *float64 `json:"output_throughput"`
		Share         *float64 `json:"cached_prompt_share"`
		From          string   `json:"cached_from"`
		PerTurn       []struct {
			Turn  int      `json:"turn"`
			P50   *float64 `json:"ttft_p50_s"`
			P99   *float64 `json:"ttft_p99_s"`
			Share *float64 `json:"cached_prompt_share"`
		} `json:"per_turn"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Label != "fake" || got.Conversations != 1 || got.Turns != 2 || got.Completed != 2 || got.OutputTokS == nil || got.Share == nil || got.From != "usage" {
		t.Fatalf("JSON %s", b)
	}
	// Turn 2's 6 words start with turn 1's 3 and its answer.
	if len(got.PerTurn) != 2 || got.PerTurn[1].Turn != 2 || got.PerTurn[1].P50 == nil || got.PerTurn[1].P99 == nil || got.PerTurn[1].Share == nil || *got.PerTurn[1].Share != 0.5 {
		t.Fatalf("per-turn JSON %s", b)
	}
}

func TestWriteConversationTable(t *testing.T) {
	share := 0.25
	rs := []ConversationResult{
		{Result: Result{Label: "sieve", Completed: 4, DurationS: 12.5, OutputTokS: 20, CacheUse: CacheUse{Share: &share, Source: CachedFromUsage}},
			PerTurn: []TurnResult{{Turn: 1, TTFTP50S: 1.5}, {Turn: 2, TTFTP50S: 0.25}}},
		{Result: Result{Label: "llama-server", Completed: 4, DurationS: 9}, PerTurn: []TurnResult{{Turn: 1, TTFTP50S: 2}, {Turn: 2, TTFTP50S: 2.125}}},
	}
	var out bytes.Buffer
	if err := WriteConversationTable(&out, rs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	for _, want := range []struct {
		line   int
		fields []string
	}{
		{0, []string{"label", "ok", "fail", "total", "s", "out", "tok/s", "cached", "t1", "p50", "t2", "p50"}},
		{1, []string{"sieve", "4", "0", "12.50", "20.0", "25.0%", "1.500", "0.250"}},
		{2, []string{"llama-server", "4", "0", "9.00", "0.0", "n/a", "2.000", "2.125"}},
	} {
		if got := strings.Fields(lines[want.line]); !reflect.DeepEqual(got, want.fields) {
			t.Errorf("line %d = %q, want %q", want.line, got, want.fields)
		}
	}
}

// Run reports the cached share like RunConversations: three runs of one
// prompt, each extending the one before and its answer ("ab"), have 3, 5
// and 6 words of which 0, 3 and 5 were cached.
func TestRunReportsCacheUse(t *testing.T) {
	prompts := []Prompt{{Text: "a b c", OutputLen: 1}, {Text: "a b cab d e", OutputLen: 1}, {Text: "a b cab d eab f", OutputLen: 1}}
	for _, tc := range []struct {
		name   string
		f      *fakeServer
		source string
	}{
		{"usage", &fakeServer{prefixCache: true}, CachedFromUsage},
		{"metrics", &fakeServer{prefixCache: true, cacheInMetrics: true}, CachedFromMetrics},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.f)
			defer ts.Close()
			c := NewClient(Target{URL: ts.URL, Stream: true}, nil)
			for i, want := range []struct {
				cached int
				report string
			}{{0, "0.0%"}, {3, "60.0%"}, {5, "83.3%"}} {
				res, err := Run(context.Background(), c, prompts[i:i+1], Load{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Share == nil || res.Source != tc.source || res.Tokens != want.cached {
					t.Fatalf("prompt %d: cache use %+v, want %d tokens from %s", i, res.CacheUse, want.cached, tc.source)
				}
				var out bytes.Buffer
				computed := fmt.Sprintf("Prompt tokens computed: %d", res.InputTokens-want.cached)
				if err := WriteReport(&out, res); err != nil || !strings.Contains(out.String(), want.report+" ("+tc.source+")") || !strings.Contains(strings.Join(strings.Fields(out.String()), " "), computed) {
					t.Errorf("report %v:\n%s", err, out.String())
				}
			}
		})
	}
}
