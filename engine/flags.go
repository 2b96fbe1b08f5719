package engine

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"sieve/sparsity"
)

// KVFlags are the command-line flags of the KV cache and its sparsity
// policy, read the same way by every command that runs an engine:
// --kv-policy, --kv-budget, --profile and --kv-sink-tokens (AddSpec), and
// --kv-cache-size, --kv-cache-dtype (alias --kv-dtype), --cache-type-k,
// --cache-type-v and --enable-prefix-caching / --no-enable-prefix-caching
// (AddCache).
type KVFlags struct {
	Policy     string  // policy name; empty: full, or layered with a profile
	Budget     float64 // tokens per layer (>= 1), a fraction (< 1), or 0 (none)
	Profile    string  // layered budget profile file (JSON)
	SinkTokens string  // comma-separated token ids kept like sinks
	CacheMiB   int     // KV pool size (0: the engine's default)
	DType      string  // KV storage type (empty: the engine's default)
	KeyDType   string  // storage type of keys (empty: DType)
	ValueDType string  // storage type of values (empty: DType)
	// NoPrefixCaching turns automatic prefix caching off.
	NoPrefixCaching bool
}

// AddSpec registers the policy flags on fs; fractionOf says what a
// fractional budget is a fraction of.
func (f *KVFlags) AddSpec(fs *flag.FlagSet, fractionOf string) {
	fs.StringVar(&f.Policy, "kv-policy", "", "KV sparsity policy: "+policyNames()+" (default full, or layered with --profile)")
	fs.Func("kv-budget", "KV budget per layer: tokens (>= 1) or a fraction (< 1) of "+fractionOf, func(s string) error {
		b, err := sparsity.ParseBudget(s)
		f.Budget = b
		return err
	})
	fs.StringVar(&f.Profile, "profile", "", "per-layer budget profile (JSON); implies --kv-policy layered")
	fs.StringVar(&f.SinkTokens, "kv-sink-tokens", "", "comma-separated token ids kept like sinks wherever they sit, under every policy (default: a layered profile's sink_tokens)")
}

// AddCache registers the pool flags on fs.
func (f *KVFlags) AddCache(fs *flag.FlagSet) {
	fs.Func("kv-cache-size", "KV cache pool size, e.g. 512MiB or 2GiB; a plain number is MiB (default: a share of free memory)", func(s string) error {
		mib, err := ParseMiB(s)
		f.CacheMiB = mib
		return err
	})
	f.AddDTypes(fs)
	fs.BoolFunc("enable-prefix-caching", "reuse the cached keys and values of earlier requests' common prefixes (default true)", func(s string) error {
		on, err := strconv.ParseBool(s)
		f.NoPrefixCaching = !on
		return err
	})
	fs.BoolFunc("no-enable-prefix-caching", "turn automatic prefix caching off", func(s string) error {
		off, err := strconv.ParseBool(s)
		f.NoPrefixCaching = off
		return err
	})
}

// AddDTypes registers the KV storage type flags on fs: --kv-cache-dtype
// (alias --kv-dtype), --cache-type-k and --cache-type-v.
func (f *KVFlags) AddDTypes(fs *flag.FlagSet) {
	dtype := func(dst *string) func(string) error {
		return func(s string) error {
			if _, err := ParseKVDType(s); err != nil {
				return err
			}
			*dst = s
			return nil
		}
	}
	help := "KV cache storage type of keys and values: " + KVDTypeNames() + " (default f16)"
	fs.Func("kv-cache-dtype", help, dtype(&f.DType))
	fs.Func("kv-dtype", "alias of --kv-cache-dtype", dtype(&f.DType))
	fs.Func("cache-type-k", "KV cache storage type of keys (default: --kv-cache-dtype)", dtype(&f.KeyDType))
	fs.Func("cache-type-v", "KV cache storage type of values (default: --kv-cache-dtype)", dtype(&f.ValueDType))
}

// Spec is the validated policy the flags give.
func (f *KVFlags) Spec() (sparsity.Spec, error) {
	spec, err := sparsity.ParseSpec(f.Policy, f.Budget, f.Profile)
	if err != nil {
		return sparsity.Spec{}, err
	}
	if spec.SinkTokens, err = sparsity.ParseSinkTokens(f.SinkTokens); err != nil {
		return sparsity.Spec{}, err
	}
	return spec, nil
}

// Apply sets the KV fields of cfg from the flags.
func (f *KVFlags) Apply(cfg *Config) error {
	spec, err := f.Spec()
	if err != nil {
		return err
	}
	cfg.KV, cfg.KVCacheMiB, cfg.KVDType = spec, f.CacheMiB, f.DType
	cfg.DisablePrefixCaching = f.NoPrefixCaching
	cfg.KVKeyDType, cfg.KVValueDType = f.KeyDType, f.ValueDType
	return nil
}

// ParseMiB reads a size such as "512MiB", "2G" or "300" (MiB) in MiB.
func ParseMiB(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mib    float64
	}{{"kib", 1.0 / 1024}, {"kb", 1.0 / 1024}, {"k", 1.0 / 1024}, {"mib", 1}, {"mb", 1}, {"m", 1},
		{"gib", 1024}, {"gb", 1024}, {"g", 1024}, {"tib", 1 << 20}, {"tb", 1 << 20}, {"t", 1 << 20}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mib
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: want a number of MiB or a size like 512MiB or 2GiB", s)
	}
	mib := v * mult
	if mib > 0 && mib < 1 {
		mib = 1
	}
	return int(mib + 0.5), nil
}

// policyNames lists the sparsity policies for the flag help.
func policyNames() string {
	names := make([]string, 0, len(sparsity.Policies()))
	for _, p := range sparsity.Policies() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
