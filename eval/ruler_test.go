package eval

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sieve/tokenizer"
)

func TestRulerPlacement(t *testing.T) {
	tok := needleTokenizer(t)
	g, err := NewRulerGenerator(tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	needle := regexp.MustCompile(`The special magic number for ([a-z]+) is (\d+)\.`)
	for _, length := range []int{200, 600} {
		for s := range 5 {
			rng := rand.New(rand.NewPCG(7, uint64(s)))
			for _, task := range RulerTasks {
				it, err := g.Make(rng, task, length)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("%s at %d, sample %d", task, length, s)
				n := len(tok.Encode(it.Context+it.Question, tokenizer.EncodeOptions{AddBOS: true}))
				if n < length*3/4 || n > length*5/4+40 {
					t.Errorf("%s: %d tokens, want about %d", name, n, length)
				}
				if it.Task != task || it.MaxTokens < 1 {
					t.Errorf("%s: task %q, %d answer tokens", name, it.Task, it.MaxTokens)
				}
				switch task {
				case RulerSingle, RulerMultiKey:
					found := needle.FindAllStringSubmatch(it.Context, -1)
					keys := map[string]string{}
					for _, f := range found {
						keys[f[1]] = f[2]
					}
					want := map[string]int{RulerSingle: 1, RulerMultiKey: RulerKeys}[task]
					asked := regexp.MustCompile(`for ([a-z]+)\?`).FindStringSubmatch(it.Question)
					if len(found) != want || len(keys) != want || asked == nil || len(it.Refs) != 1 || keys[asked[1]] != it.Refs[0] {
						t.Errorf("%s: needles %v, question %q, refs %v", name, found, it.Question, it.Refs)
					}
				case RulerVariables:
					// VAR A = N first, then each hop after the one it names.
					if len(it.Refs) != RulerHops+1 {
						t.Fatalf("%s: refs %v", name, it.Refs)
					}
					value := regexp.MustCompile(`VAR ` + it.Refs[0] + ` = (\d+)\.`).FindStringSubmatchIndex(it.Context)
					if value == nil || !strings.Contains(it.Question, it.Context[value[2]:value[3]]) {
						t.Fatalf("%s: no first binding of %s with the asked value: %q", name, it.Refs[0], it.Question)
					}
					prev := value[0]
					for i := 1; i < len(it.Refs); i++ {
						at := strings.Index(it.Context, fmt.Sprintf("VAR %s = VAR %s.", it.Refs[i], it.Refs[i-1]))
						if at < prev {
							t.Errorf("%s: hop %d at %d, before the binding it names at %d", name, i, at, prev)
						}
						prev = at
					}
				case RulerWords:
					counts := map[string]int{}
					entries := regexp.MustCompile(`(\d+)\. ([a-z]+)`).FindAllStringSubmatch(it.Context, -1)
					for i, e := range entries {
						if e[1] != fmt.Sprint(i+1) {
							t.Fatalf("%s: entry %d numbered %s", name, i+1, e[1])
						}
						counts[e[2]]++
					}
					least := len(entries)
					for _, w := range it.Refs {
						least = min(least, counts[w])
					}
					for w, c := range counts {
						if !slices.Contains(it.Refs, w) && c >= least {
							t.Errorf("%s: rare word %q %d times, a common one only %d", name, w, c, least)
						}
					}
					if len(it.Refs) != RulerCommonWords {
						t.Errorf("%s: %d refs", name, len(it.Refs))
					}
				}
				if it.Item().Score(strings.Join(it.Refs, ", ")) != 1 || it.Item().Score("no idea") != 0 {
					t.Errorf("%s: the refs do not score 1, or nothing does not score 0", name)
				}
			}
		}
	}
	if _, err := g.Make(rand.New(rand.NewPCG(1, 1)), "qa", 100); err == nil {
		t.Error("unknown task: no error")
	}
}
