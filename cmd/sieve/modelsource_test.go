package main

import (
	"strings"
	"testing"
)

func TestRunWithoutModelUsesDemo(t *testing.T) {
	code, out, errOut := sieve("run", "-p", "Once upon a time", "-n", "8", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "built-in demo model stories260K") {
		t.Errorf("stderr does not say the demo model is used:\n%s", errOut)
	}
	if !strings.HasPrefix(out, "Once upon a time") || len(out) <= len("Once upon a time\n") {
		t.Errorf("stdout %q: want the prompt and a continuation", out)
	}
}
