package eval

import (
	"regexp"
	"strings"
	"unicode"
)

// NormalizeAnswer is the answer normalization of SQuAD and LongBench's QA
// scores: lower case, punctuation removed, the articles "a", "an" and
// "the" removed, runs of white space made one space.
func NormalizeAnswer(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	var words []string
	for _, w := range strings.Fields(s) {
		if w != "a" && w != "an" && w != "the" {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}

// TokenF1 is the F1 of the normalized words of pred against those of ref,
// counting repeated words as often as both have them: 2PR/(P+R) with P the
// shared words over pred's and R over ref's. It is 0 when either is empty.
func TokenF1(pred, ref string) float64 {
	p, r := strings.Fields(NormalizeAnswer(pred)), strings.Fields(NormalizeAnswer(ref))
	if len(p) == 0 || len(r) == 0 {
		return 0
	}
	counts := map[string]int{}
	for _, w := range r {
		counts[w]++
	}
	same := 0
	for _, w := range p {
		if counts[w] > 0 {
			counts[w]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	prec, rec := float64(same)/float64(len(p)), float64(same)/float64(len(r))
	return 2 * prec * rec / (prec + rec)
}

// rougeWords are the lower-cased runs of letters and digits of s.
func rougeWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// RougeL is the ROUGE-L F1 of pred against ref over their words
// (lower-cased letters and digits): with L the length of their longest
// common subsequence, 2PR/(P+R) for P = L/|pred| and R = L/|ref|.
func RougeL(pred, ref string) float64 {
	p, r := rougeWords(pred), rougeWords(ref)
	l := lcs(p, r)
	if l == 0 {
		return 0
	}
	prec, rec := float64(l)/float64(len(p)), float64(l)/float64(len(r))
	return 2 * prec * rec / (prec + rec)
}

// EditSimilarity is the similarity of two strings by the insert/delete
// edit distance over their characters, as fuzzywuzzy's ratio (LongBench's
// code score) computes it: 2L/(|a|+|b|) with L the longest common
// subsequence, 1 for two empty strings.
func EditSimilarity(a, b string) float64 {
	x, y := []rune(a), []rune(b)
	if len(x)+len(y) == 0 {
		return 1
	}
	return 2 * float64(lcs(x, y)) / float64(len(x)+len(y))
}

// lcs is the length of the longest common subsequence of a and b.
func lcs[T comparable](a, b []T) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			default:
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ExactMatch is 1 when pred and ref are equal after NormalizeAnswer, else 0.
func ExactMatch(pred, ref string) float64 {
	if NormalizeAnswer(pred) == NormalizeAnswer(ref) {
		return 1
	}
	return 0
}

// MatchAll is RULER's score of an answer: the fraction of refs that occur
// in pred, ignoring case.
func MatchAll(pred string, refs []string) float64 {
	if len(refs) == 0 {
		return 0
	}
	pred = strings.ToLower(pred)
	n := 0
	for _, r := range refs {
		if strings.Contains(pred, strings.ToLower(r)) {
			n++
		}
	}
	return float64(n) / float64(len(refs))
}

// ClassAccuracy is LongBench's classification score: of the classes
// that occur in pred, those that are part of answer without being it are
// dropped; the score is 1/n when answer is among the n left, else 0.
func ClassAccuracy(pred, answer string, classes []string) float64 {
	var found []string
	hit := false
	for _, c := range classes {
		if c == "" || !strings.Contains(pred, c) || (c != answer && strings.Contains(answer, c)) {
			continue
		}
		found = append(found, c)
		hit = hit || c == answer
	}
	if !hit {
		return 0
	}
	return 1 / float64(len(found))
}

// numbers matches runs of digits.
var numbers = regexp.MustCompile(`\d+`)

// NumberShare is LongBench's counting and retrieval score: the share of the
// numbers in pred that are want, 0 when pred has none.
func NumberShare(pred, want string) float64 {
	ns := numbers.FindAllString(pred, -1)
	if len(ns) == 0 {
		return 0
	}
	n := 0
	for _, s := range ns {
		if s == want {
			n++
		}
	}
	return float64(n) / float64(len(ns))
}
