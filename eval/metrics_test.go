package eval

import (
	"math"
	"testing"
)

// The expected values are worked by hand in the comments.

func TestTokenF1(t *testing.T) {
	tests := []struct {
		pred, ref string
		want      float64
	}{
		{"The Eiffel Tower!", "eiffel tower", 1}, // articles and punctuation go
		// pred: in paris france (3), ref: paris (1); shared 1: P 1/3, R 1,
		// F1 2·(1/3)/(4/3) = 1/2.
		{"in Paris, France", "Paris", 0.5},
		// pred: cat cat dog (3), ref: cat dog dog bird (4); shared cat, dog
		// = 2: P 2/3, R 1/2, F1 (2/3)/(7/6) = 4/7.
		{"cat cat dog", "cat dog dog bird", 4.0 / 7},
		{"nothing here", "paris", 0},
		{"", "paris", 0},
	}
	for _, tt := range tests {
		if got := TokenF1(tt.pred, tt.ref); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("TokenF1(%q, %q) = %v, want %v", tt.pred, tt.ref, got, tt.want)
		}
	}
}

func TestRougeL(t *testing.T) {
	tests := []struct {
		pred, ref string
		want      float64
	}{
		{"The cat sat.", "the cat sat", 1},
		// pred: police killed the gunman (4), ref: police kill the gunman
		// (4); LCS police the gunman = 3: P = R = 3/4, F1 3/4.
		{"police killed the gunman", "police kill the gunman", 0.75},
		// pred: a b c d e f (6), ref: b d f (3); LCS 3: P 1/2, R 1, F1 2/3.
		{"a b c d e f", "b d f", 2.0 / 3},
		// pred: c b a, ref: a b c; LCS 1: P = R = 1/3.
		{"c b a", "a b c", 1.0 / 3},
		{"x y", "a b", 0},
	}
	for _, tt := range tests {
		if got := RougeL(tt.pred, tt.ref); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("RougeL(%q, %q) = %v, want %v", tt.pred, tt.ref, got, tt.want)
		}
	}
}

func TestEditSimilarity(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"return x", "return x", 1},
		// kitten/sitting: LCS ittn = 4, so 2·4/(6+7) = 8/13.
		{"kitten", "sitting", 8.0 / 13},
		// abc/abd: LCS ab = 2: 4/6.
		{"abc", "abd", 2.0 / 3},
		{"", "", 1},
		{"abc", "", 0},
		{"héllo", "hello", 0.8}, // runes, not bytes: LCS 4 of 5 + 5
	}
	for _, tt := range tests {
		if got := EditSimilarity(tt.a, tt.b); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("EditSimilarity(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestExactMatchAndMatchAll(t *testing.T) {
	if ExactMatch(" The  Answer. ", "answer") != 1 || ExactMatch("answer 2", "answer") != 0 {
		t.Error("ExactMatch")
	}
	tests := []struct {
		pred string
		refs []string
		want float64
	}{
		{"The numbers are 123 and 456.", []string{"123", "456"}, 1},
		{"It is 123.", []string{"123", "456"}, 0.5},
		{"APPLE, pear", []string{"apple", "plum", "pear", "fig"}, 0.5},
		{"nothing", nil, 0},
	}
	for _, tt := range tests {
		if got := MatchAll(tt.pred, tt.refs); got != tt.want {
			t.Errorf("MatchAll(%q, %q) = %v, want %v", tt.pred, tt.refs, got, tt.want)
		}
	}
}

func TestClassAccuracy(t *testing.T) {
	classes := []string{"Location", "Other Location", "Person", "Date"}
	tests := []struct {
		pred, answer string
		want         float64
	}{
		{"Type: Person", "Person", 1},
		{"Person or Date", "Person", 0.5}, // two found, one right
		{"Date", "Person", 0},
		// Found: Location and Other Location; Location is part of the
		// answer and dropped, leaving one.
		{"Other Location", "Other Location", 1},
		// Found: Location alone, which is not the answer.
		{"a location: Location", "Other Location", 0},
		{"other location", "Other Location", 0}, // case counts, as in LongBench
	}
	for _, tt := range tests {
		if got := ClassAccuracy(tt.pred, tt.answer, classes); got != tt.want {
			t.Errorf("ClassAccuracy(%q, %q) = %v, want %v", tt.pred, tt.answer, got, tt.want)
		}
	}
}

func TestNumberShare(t *testing.T) {
	tests := []struct {
		pred, want string
		score      float64
	}{
		{"There are 7 unique paragraphs.", "7", 1},
		{"Paragraph 3 or paragraph 12", "12", 0.5},
		{"none", "3", 0},
		{"13", "3", 0}, // whole numbers only
	}
	for _, tt := range tests {
		if got := NumberShare(tt.pred, tt.want); got != tt.score {
			t.Errorf("NumberShare(%q, %q) = %v, want %v", tt.pred, tt.want, got, tt.score)
		}
	}
}
