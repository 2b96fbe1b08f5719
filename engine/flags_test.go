package engine

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"sieve/sparsity"
)

func TestParseMiB(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"300", 300}, {"512MiB", 512}, {"512m", 512}, {"2GiB", 2048}, {"1.5G", 1536}, {"1 TiB", 1 << 20}, {"4096KiB", 4}, {"1k", 1}, {"0", 0},
	}
	for _, tt := range tests {
		if got, err := ParseMiB(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseMiB(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "-1", "GiB", "12XB"} {
		if _, err := ParseMiB(bad); err == nil {
			t.Errorf("ParseMiB(%q) succeeded", bad)
		}
	}
}

func TestKVFlags(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(profile, []byte(`{"layers": ["dense", {"sink": 4, "window": 8, "heavy": 20}], "sink_tokens": [13]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		policy     sparsity.Policy
		budget     float64
		mib        int
		dtype      string
		k, v       string
		sinks      int
		profile    bool
		noPrefix   bool
		wantErrArg bool // the flag parse fails
		wantErr    bool // Apply fails
	}{
		{name: "defaults", policy: sparsity.Full},
		{name: "everything", args: []string{"--kv-policy", "h2o", "--kv-budget", "0.25", "--kv-cache-size", "2GiB", "--kv-dtype", "f32", "--kv-sink-tokens", "1,13"},
			policy: sparsity.H2O, budget: 0.25, mib: 2048, dtype: "f32", sinks: 2},
		{name: "profile alone implies layered", args: []string{"--profile", profile}, policy: sparsity.Layered, profile: true},
		{name: "profile with layered", args: []string{"--kv-policy", "layered", "--profile", profile}, policy: sparsity.Layered, profile: true},
		{name: "profile with another policy", args: []string{"--kv-policy", "h2o", "--kv-budget", "64", "--profile", profile}, wantErr: true},
		{name: "bad budget", args: []string{"--kv-budget", "many"}, wantErrArg: true},
		{name: "negative budget", args: []string{"--kv-budget", "-3"}, wantErrArg: true},
		{name: "bad size", args: []string{"--kv-cache-size", "lots"}, wantErrArg: true},
		{name: "unknown policy", args: []string{"--kv-policy", "lru"}, wantErr: true},
		{name: "kv-cache-dtype", args: []string{"--kv-cache-dtype", "q8_0"}, policy: sparsity.Full, dtype: "q8_0"},
		{name: "keys and values apart", args: []string{"--cache-type-k", "q8_0", "--cache-type-v", "q4_0"}, policy: sparsity.Full, k: "q8_0", v: "q4_0"},
		{name: "unknown dtype", args: []string{"--kv-cache-dtype", "q4_K"}, wantErrArg: true},
		{name: "unknown key dtype", args: []string{"--cache-type-k", "fp8"}, wantErrArg: true},
		{name: "bad sink tokens", args: []string{"--kv-sink-tokens", "x"}, wantErr: true},
		{name: "prefix caching off", args: []string{"--no-enable-prefix-caching"}, policy: sparsity.Full, noPrefix: true},
		{name: "prefix caching on", args: []string{"--enable-prefix-caching"}, policy: sparsity.Full},
		{name: "prefix caching =false", args: []string{"--enable-prefix-caching=false"}, policy: sparsity.Full, noPrefix: true},
		{name: "last prefix flag wins", args: []string{"--no-enable-prefix-caching", "--enable-prefix-caching"}, policy: sparsity.Full},
		{name: "bad prefix flag", args: []string{"--enable-prefix-caching=maybe"}, wantErrArg: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f KVFlags
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f.AddSpec(fs, "the context")
			f.AddCache(fs)
			if err := fs.Parse(tt.args); (err != nil) != tt.wantErrArg {
				t.Fatalf("parse: %v, want error %v", err, tt.wantErrArg)
			} else if err != nil {
				return
			}
			var cfg Config
			if err := f.Apply(&cfg); (err != nil) != tt.wantErr {
				t.Fatalf("apply: %v, want error %v", err, tt.wantErr)
			} else if err != nil {
				return
			}
			if cfg.KV.Policy != tt.policy || cfg.KV.Budget != tt.budget || cfg.KVCacheMiB != tt.mib || cfg.KVDType != tt.dtype ||
				cfg.KVKeyDType != tt.k || cfg.KVValueDType != tt.v || cfg.DisablePrefixCaching != tt.noPrefix ||
				len(cfg.KV.SinkTokens.IDs()) != tt.sinks || (cfg.KV.Profile != nil) != tt.profile {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}
