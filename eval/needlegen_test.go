package eval

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"sieve/internal/testmodels"
	"sieve/tokenizer"
)

// needleTokenizer loads the needle-1k model's tokenizer.
func needleTokenizer(t *testing.T) tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(testmodels.Path(t, "needle-1k/tok.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestNeedlePlacement(t *testing.T) {
	tok := needleTokenizer(t)
	var filler []string
	for _, w := range strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet") {
		filler = append(filler, "Filler sentence "+w+" goes here.")
	}
	g, err := NewNeedleGenerator(tok, filler)
	if err != nil {
		t.Fatal(err)
	}
	for _, length := range []int{60, 250, 900} {
		for _, depth := range []float64{0, 0.25, 0.5, 0.9, 1} {
			n, err := g.Make(rand.New(rand.NewPCG(uint64(length), 1)), length, depth)
			if err != nil {
				t.Fatal(err)
			}
			needle, question := "The special magic number for "+n.Word+" is "+n.Number+".", "What is the special magic number for "+n.Word+"? The special magic number for "+n.Word+" is"
			switch {
			case strings.Count(n.Text, needle) != 1 || !strings.HasPrefix(n.Text[n.At:], needle):
				t.Fatalf("length %d depth %v: needle %q not once at %d in %q", length, depth, needle, n.At, n.Text)
			case !strings.HasSuffix(n.Text, " "+question) || strings.Count(n.Text, "What is") != 1:
				t.Fatalf("length %d depth %v: does not end with the question once: %q", length, depth, n.Text)
			case len(n.Number) < 3 || len(n.Number) > 7 || n.Number[0] == '0' || strings.Trim(n.Number, "0123456789") != "":
				t.Fatalf("number %q", n.Number)
			case len(n.Word) < 4 || len(n.Word) > 10 || strings.ToLower(n.Word) != n.Word:
				t.Fatalf("word %q", n.Word)
			case n.Tokens[0] != tok.BOS() || tok.Decode(n.Tokens) != n.Text:
				t.Fatalf("tokens do not encode the text with BOS first")
			case len(n.Tokens) < length || len(n.Tokens) > length+12:
				t.Fatalf("length %d: %d tokens", length, len(n.Tokens))
			}
			before, total := strings.Count(n.Text[:n.At], "Filler"), strings.Count(n.Text, "Filler")
			if got := float64(before) / float64(total); math.Abs(got-depth) > 0.5/float64(total)+1e-9 {
				t.Fatalf("length %d depth %v: needle after %d of %d sentences", length, depth, before, total)
			}
			again, _ := g.Make(rand.New(rand.NewPCG(uint64(length), 1)), length, depth)
			if again.Text != n.Text {
				t.Fatal("the same seed drew a different prompt")
			}
		}
	}
	if _, err := g.Make(rand.New(rand.NewPCG(1, 1)), 100, 1.5); err == nil {
		t.Fatal("depth 1.5 accepted")
	}
}

func TestGenerateFiller(t *testing.T) {
	a, b := GenerateFiller(50, 3), GenerateFiller(50, 3)
	if len(a) != 50 || strings.Join(a, "|") != strings.Join(b, "|") {
		t.Fatalf("not 50 sentences the same for one seed")
	}
	if strings.Join(a, "|") == strings.Join(GenerateFiller(50, 4), "|") {
		t.Fatal("seeds 3 and 4 drew the same sentences")
	}
	for _, s := range a {
		if strings.ContainsAny(s, "0123456789") || !strings.HasSuffix(s, ".") || s[0] < 'A' || s[0] > 'Z' {
			t.Fatalf("sentence %q", s)
		}
	}
}

func TestRetrieved(t *testing.T) {
	tests := []struct {
		answer, number string
		want           bool
	}{
		{" 123456.", "123456", true},
		{" 123456", "123456", true},
		{"123456 is it", "123456", true},
		{" 1234567.", "123456", false}, // longer
		{" 12345.", "123456", false},   // shorter
		{" 12 3456.", "123456", false}, // split
		{" 0123456.", "123456", false},
		{" 654321. 123456", "123456", false}, // only the first number counts
		{" the number.", "123456", false},
		{"", "123", false},
	}
	for _, tc := range tests {
		if got := Retrieved(tc.answer, tc.number); got != tc.want {
			t.Errorf("Retrieved(%q, %q) = %v, want %v", tc.answer, tc.number, got, tc.want)
		}
	}
}

func TestWriteNeedleTable(t *testing.T) {
	cells := func(n ...int) []NeedleCell { // retrieved of 4 at lengths 100, 100, 200
		return []NeedleCell{{Length: 100, Depth: 0, Prompts: 4, Retrieved: n[0], Tokens: 101}, {Length: 100, Depth: 1, Prompts: 4, Retrieved: n[1], Tokens: 103},
			{Length: 200, Depth: 0, Prompts: 4, Retrieved: n[2], Tokens: 204}}
	}
	results := []NeedleResult{{Policy: "full", Cells: cells(4, 3, 4)}, {Policy: "h2o", Budget: 0.5, Cells: cells(2, 1, 4)}}
	var b strings.Builder
	if err := WriteNeedleTable(&b, []int{100, 200}, results); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"policy  budget  ~102 tokens  ~204 tokens  vs full",
		"full       -  7/8 (100%)  4/4 (100%)     100%",
		"h2o     0.5   3/8 (43%)  4/4 (100%)      64%",
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, w := range want {
		if strings.Join(strings.Fields(lines[i]), " ") != strings.Join(strings.Fields(w), " ") {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
}
