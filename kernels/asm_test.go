//go:build amd64 && !purego

package kernels

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAVX2UsesNoEVEXRegisters guards the generated AVX2 functions against
// registers that only AVX-512 (EVEX) encodings reach, which would make the
// assembler emit instructions an AVX2-only CPU cannot run.
func TestAVX2UsesNoEVEXRegisters(t *testing.T) {
	src, err := os.ReadFile("kernels_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	evex := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[0-7])\b`)
	fn := ""
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			fn = line
		}
		if strings.Contains(fn, "AVX2(") && evex.MatchString(line) {
			t.Errorf("%s: %s", fn, strings.TrimSpace(line))
		}
	}
}

func TestImplementationsListed(t *testing.T) {
	for _, im := range supportedImpls() {
		t.Logf("implementation %s", im.name)
	}
	if !hasAVX2() && Implementation() != "generic" {
		t.Errorf("active implementation %s without AVX2", Implementation())
	}
}
