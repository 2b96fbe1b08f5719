package engine

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"sieve/internal/testmodels"
	"sieve/tokenizer"
)

// pieceTok is a tokenizer whose token i decodes to pieces[i]; a leading
// space is dropped at the start of the text (prev < 0), as SentencePiece does.
type pieceTok struct{ pieces []string }

func (p pieceTok) Encode(string, tokenizer.EncodeOptions) []int32 { return nil }
func (p pieceTok) Piece(prev, id int32) []byte {
	s := p.pieces[id]
	if prev < 0 {
		s = strings.TrimPrefix(s, " ")
	}
	return []byte(s)
}
func (p pieceTok) Decode(ids []int32) string {
	var b []byte
	prev := int32(-1)
	for _, id := range ids {
		b = append(b, p.Piece(prev, id)...)
		prev = id
	}
	return string(b)
}
func (p pieceTok) VocabSize() int               { return len(p.pieces) }
func (p pieceTok) BOS() int32                   { return -1 }
func (p pieceTok) EOS() int32                   { return -1 }
func (p pieceTok) StopTokens() []int32          { return nil }
func (p pieceTok) TokenID(string) (int32, bool) { return 0, false }
func (p pieceTok) IsControl(int32) bool         { return false }

// stream feeds pieces (each becomes one token) through a TextStream and
// returns what each Push emitted, the index of the Push that stopped (-1
// if none) and the Flush text.
func stream(t *testing.T, prev int32, stop []string, pieces []string) (out []string, stoppedAt int, flush string) {
	t.Helper()
	tok := pieceTok{pieces: pieces}
	s := NewTextStream(tok, prev, stop)
	stoppedAt = -1
	for i := range pieces {
		text, stopped := s.Push(int32(i))
		if !utf8.ValidString(text) {
			t.Fatalf("push %d emitted invalid UTF-8 %q", i, text)
		}
		out = append(out, text)
		if stopped && stoppedAt < 0 {
			stoppedAt = i
		}
	}
	return out, stoppedAt, s.Flush()
}

func TestTextStream(t *testing.T) {
	euro := "\u20ac" // 3 bytes: e2 82 ac
	grin := "😀"      // 4 bytes: f0 9f 98 80
	tests := []struct {
		name      string
		prev      int32
		stop      []string
		pieces    []string
		want      []string
		stoppedAt int
		flush     string
	}{
		{
			name:      "no stop strings",
			prev:      -1,
			pieces:    []string{" Once", " upon", " a", " time"},
			want:      []string{"Once", " upon", " a", " time"},
			stoppedAt: -1,
		},
		{
			name:      "prev token keeps the leading space",
			prev:      7,
			pieces:    []string{" Once", " upon"},
			want:      []string{" Once", " upon"},
			stoppedAt: -1,
		},
		{
			name:      "three-byte char split over byte tokens",
			prev:      7,
			pieces:    []string{"a", euro[:1], euro[1:2], euro[2:], "b"},
			want:      []string{"a", "", "", euro, "b"},
			stoppedAt: -1,
		},
		{
			name:      "four-byte char split, text before it is emitted",
			prev:      7,
			pieces:    []string{"x" + grin[:2], grin[2:3], grin[3:] + "y"},
			want:      []string{"x", "", grin + "y"},
			stoppedAt: -1,
		},
		{
			name:      "incomplete char at the end is flushed as U+FFFD",
			prev:      7,
			pieces:    []string{"ok", grin[:3]},
			want:      []string{"ok", ""},
			stoppedAt: -1,
			flush:     "\uFFFD",
		},
		{
			name:      "invalid byte in the middle becomes U+FFFD at once",
			prev:      7,
			pieces:    []string{"a\xffb", "c"},
			want:      []string{"a\uFFFDb", "c"},
			stoppedAt: -1,
		},
		{
			name:      "stop string inside one token",
			prev:      7,
			stop:      []string{"END"},
			pieces:    []string{"hello", " wENDorld", "more"},
			want:      []string{"hello", " w", ""},
			stoppedAt: 1,
		},
		{
			name:      "stop string spanning three tokens",
			prev:      7,
			stop:      []string{"\n\nUser:"},
			pieces:    []string{"Hi.", "\n", "\nUs", "er:", " next"},
			want:      []string{"Hi.", "", "", "", ""},
			stoppedAt: 3,
		},
		{
			name:      "held prefix released when the stop does not complete",
			prev:      7,
			stop:      []string{"\n\nUser:"},
			pieces:    []string{"Hi.", "\n", "\nUs", "ed it", "!"},
			want:      []string{"Hi.", "", "", "\n\nUsed it", "!"},
			stoppedAt: -1,
		},
		{
			name:      "held prefix released by Flush at the end",
			prev:      7,
			stop:      []string{"STOP"},
			pieces:    []string{"go", " ST"},
			want:      []string{"go", " "},
			stoppedAt: -1,
			flush:     "ST",
		},
		{
			name:      "overlapping candidates: the earliest match wins",
			prev:      7,
			stop:      []string{"bcd", "abcx"},
			pieces:    []string{"za", "bc", "d"},
			want:      []string{"z", "", "a"},
			stoppedAt: 2,
		},
		{
			name:      "overlapping candidates: shorter stop inside a longer prefix",
			prev:      7,
			stop:      []string{"abcd", "bc"},
			pieces:    []string{"ab", "c", "d"},
			want:      []string{"", "a", ""},
			stoppedAt: 1,
		},
		{
			name:      "overlapping candidates: both complete, the earlier start wins",
			prev:      7,
			stop:      []string{"abab", "ba"},
			pieces:    []string{"ab", "ab"},
			want:      []string{"", ""},
			stoppedAt: 1,
		},
		{
			name:      "self-overlapping stop string",
			prev:      7,
			stop:      []string{"aab"},
			pieces:    []string{"a", "a", "a", "b", "c"},
			want:      []string{"", "", "a", "", ""},
			stoppedAt: 3,
		},
		{
			name:      "stop at the very start",
			prev:      -1,
			stop:      []string{"###"},
			pieces:    []string{"##", "#x"},
			want:      []string{"", ""},
			stoppedAt: 1,
		},
		{
			name:      "multi-byte stop string split across byte tokens",
			prev:      7,
			stop:      []string{euro + "!"},
			pieces:    []string{"cost 5", euro[:2], euro[2:], "!"},
			want:      []string{"cost 5", "", "", ""},
			stoppedAt: 3,
		},
		{
			name:      "empty stop string is ignored",
			prev:      7,
			stop:      []string{""},
			pieces:    []string{"a", "b"},
			want:      []string{"a", "b"},
			stoppedAt: -1,
		},
		{
			name:      "non-matching stop does not hold unrelated text",
			prev:      7,
			stop:      []string{"xyz"},
			pieces:    []string{"abc", "def"},
			want:      []string{"abc", "def"},
			stoppedAt: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stoppedAt, flush := stream(t, tt.prev, tt.stop, tt.pieces)
			if !slices.Equal(out, tt.want) {
				t.Errorf("pushes = %q, want %q", out, tt.want)
			}
			if stoppedAt != tt.stoppedAt {
				t.Errorf("stopped at push %d, want %d", stoppedAt, tt.stoppedAt)
			}
			if flush != tt.flush {
				t.Errorf("flush = %q, want %q", flush, tt.flush)
			}
		})
	}
}

// TestTextStreamMatchesDecode checks, without stop strings, that the pieces
// emitted add up to exactly the tokenizer's Decode of the same tokens.
func TestTextStreamMatchesDecode(t *testing.T) {
	grin := "😀"
	tok := pieceTok{pieces: []string{" a", grin[:1], grin[1:3], grin[3:], "é"[:1], "é"[1:], " z"}}
	ids := []int32{0, 1, 2, 3, 4, 5, 6, 0}
	s := NewTextStream(tok, -1, nil)
	var got strings.Builder
	for _, id := range ids {
		text, stopped := s.Push(id)
		if stopped {
			t.Fatal("stopped without stop strings")
		}
		got.WriteString(text)
	}
	got.WriteString(s.Flush())
	if want := tok.Decode(ids); got.String() != want {
		t.Errorf("streamed %q, Decode gives %q", got.String(), want)
	}
}

func TestTextStreamAfterStop(t *testing.T) {
	tok := pieceTok{pieces: []string{"a", "STOP", "b"}}
	s := NewTextStream(tok, -1, []string{"STOP"})
	if text, stopped := s.Push(0); text != "a" || stopped {
		t.Fatalf("Push(a) = %q, %v", text, stopped)
	}
	if text, stopped := s.Push(1); text != "" || !stopped {
		t.Fatalf("Push(STOP) = %q, %v", text, stopped)
	}
	if text, stopped := s.Push(2); text != "" || !stopped {
		t.Errorf("Push after stop = %q, %v; want \"\", true", text, stopped)
	}
	if f := s.Flush(); f != "" {
		t.Errorf("Flush after stop = %q", f)
	}
}

// TestTextStreamRealTokenizer streams text that the stories260K vocabulary
// encodes partly as byte-fallback tokens, and checks that every emitted
// piece is valid UTF-8 and that the whole equals Decode.
func TestTextStreamRealTokenizer(t *testing.T) {
	tok, err := tokenizer.Load(testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text    string
		stop    []string
		want    string
		minHeld int // pushes that must emit nothing (byte tokens of one character)
	}{
		{text: "Once upon a time, Zoë saw 😀 and ☃.", want: "Once upon a time, Zoë saw 😀 and ☃.", minHeld: 3 + 2},
		{text: "Once upon a time, Zoë saw 😀 and ☃.", stop: []string{"😀"}, want: "Once upon a time, Zoë saw "},
		{text: "Lily said: \"hi\". Then Tom said: \"bye\".", stop: []string{"Tom said"}, want: "Lily said: \"hi\". Then "},
	}
	for _, tt := range tests {
		ids := tok.Encode(tt.text, tokenizer.EncodeOptions{AddBOS: true})
		if len(ids) < 2 {
			t.Fatalf("%q encodes to %v", tt.text, ids)
		}
		// The first token (BOS) plays the prompt; the rest are "generated".
		s := NewTextStream(tok, ids[0], tt.stop)
		var got strings.Builder
		stopped := false
		held := 0
		for _, id := range ids[1:] {
			text, st := s.Push(id)
			if !utf8.ValidString(text) {
				t.Fatalf("%q: emitted invalid UTF-8 %q", tt.text, text)
			}
			if text == "" {
				held++
			}
			got.WriteString(text)
			if st {
				stopped = true
				break
			}
		}
		got.WriteString(s.Flush())
		if got.String() != tt.want {
			t.Errorf("%q stop %q: got %q, want %q", tt.text, tt.stop, got.String(), tt.want)
		}
		if stopped != (len(tt.stop) > 0) {
			t.Errorf("%q stop %q: stopped = %v", tt.text, tt.stop, stopped)
		}
		if held < tt.minHeld {
			t.Errorf("%q: %d pushes held text back, want at least %d (byte-fallback tokens)", tt.text, held, tt.minHeld)
		}
	}
}

// TestTextStreamRandomSplits cuts texts into random byte pieces and checks
// that, whatever the cuts, the stream emits valid UTF-8 adding up to the
// text before the earliest stop string (or the whole text).
func TestTextStreamRandomSplits(t *testing.T) {
	texts := []string{
		"Once upon a time, Zoë met 😀 and ☃ in 東京.\n\nUser: hi",
		"aaaabaaab ababab END ENDEND",
		"héhé😀😀 stop? STOP! done",
	}
	stopSets := [][]string{nil, {"\n\nUser:"}, {"ab", "aab"}, {"😀"}, {"STOP", "stop?"}, {"é😀", "zz"}, {"END"}}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		text := texts[rng.IntN(len(texts))]
		stop := stopSets[rng.IntN(len(stopSets))]
		first := -1
		for _, st := range stop {
			if i := strings.Index(text, st); i >= 0 && (first < 0 || i < first) {
				first = i
			}
		}
		want, wantStop := text, first >= 0
		if wantStop {
			want = text[:first]
		}
		var pieces []string
		for rest := text; rest != ""; {
			n := min(len(rest), 1+rng.IntN(6))
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		s := NewTextStream(pieceTok{pieces: pieces}, 0, stop)
		var got strings.Builder
		stopped := false
		for i := range pieces {
			text, st := s.Push(int32(i))
			if !utf8.ValidString(text) {
				t.Fatalf("pieces %q stop %q: invalid UTF-8 %q", pieces, stop, text)
			}
			got.WriteString(text)
			if st {
				stopped = true
				break
			}
		}
		got.WriteString(s.Flush())
		if got.String() != want || stopped != wantStop {
			t.Fatalf("pieces %q stop %q: got %q (stopped %v), want %q (%v)", pieces, stop, got.String(), stopped, want, wantStop)
		}
	}
}
