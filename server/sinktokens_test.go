package server

import (
	"errors"
	"io"
	"slices"
	"testing"
)

func TestKVSinkTokensFlag(t *testing.T) {
	opts, err := ParseArgs([]string{"-m", "x", "--kv-policy", "h2o", "--kv-budget", "64", "--kv-sink-tokens", "13, 1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.Engine.KV.SinkTokens.IDs(); !slices.Equal(got, []int32{1, 13}) {
		t.Fatalf("sink tokens %v, want [1 13]", got)
	}
	for _, bad := range []string{"x", "-1"} {
		if _, err := ParseArgs([]string{"-m", "x", "--kv-sink-tokens", bad}, io.Discard); !errors.Is(err, ErrUsage) {
			t.Errorf("--kv-sink-tokens %q: error %v, want ErrUsage", bad, err)
		}
	}
}
