package engine

import (
	"bytes"
	"strings"

	"sieve/tokenizer"
)

// TextStream turns one sequence's generated tokens into text incrementally.
// It emits only complete UTF-8 characters, holds back any tail that could
// be the start of a stop string until that is decided, and reports when a
// stop string completes. It is not safe for concurrent use.
type TextStream struct {
	tok     tokenizer.Tokenizer
	stop    [][]byte
	prev    int32
	pending []byte // decoded bytes not yet emitted
	stopped bool
}

// NewTextStream returns a stream for tokens that follow token prev (the last
// prompt token, or -1 at the start of the text), ending at any of stop.
// Empty stop strings are ignored.
func NewTextStream(tok tokenizer.Tokenizer, prev int32, stop []string) *TextStream {
	s := &TextStream{tok: tok, prev: prev}
	for _, st := range stop {
		if st != "" {
			s.stop = append(s.stop, []byte(st))
		}
	}
	return s
}

// Push adds token id and returns the text it completes. When a stop string
// completes, text is what precedes it, stopped is true, and later calls
// return ("", true).
func (s *TextStream) Push(id int32) (text string, stopped bool) {
	if s.stopped {
		return "", true
	}
	s.pending = append(s.pending, s.tok.Piece(s.prev, id)...)
	s.prev = id
	if i := s.firstStop(); i >= 0 {
		s.stopped = true
		text = strings.ToValidUTF8(string(s.pending[:i]), "\uFFFD")
		s.pending = nil
		return text, true
	}
	n := min(len(s.pending)-s.stopPrefixLen(), tokenizer.CompleteUTF8(s.pending))
	text = strings.ToValidUTF8(string(s.pending[:n]), "\uFFFD")
	s.pending = append(s.pending[:0], s.pending[n:]...)
	return text, false
}

// Flush returns the text still held back, at the end of generation, with an
// incomplete UTF-8 tail replaced by U+FFFD. It returns "" after a stop.
func (s *TextStream) Flush() string {
	text := strings.ToValidUTF8(string(s.pending), "\uFFFD")
	s.pending = nil
	return text
}

// firstStop returns the offset in pending of the earliest complete stop
// string, or -1.
func (s *TextStream) firstStop() int {
	first := -1
	for _, st := range s.stop {
		if i := bytes.Index(s.pending, st); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

// stopPrefixLen returns the length of the longest suffix of pending that is
// a proper prefix of some stop string.
func (s *TextStream) stopPrefixLen() int {
	longest := 0
	for _, st := range s.stop {
		for n := min(len(st)-1, len(s.pending)); n > longest; n-- {
			if bytes.HasSuffix(s.pending, st[:n]) {
				longest = n
				break
			}
		}
	}
	return longest
}
