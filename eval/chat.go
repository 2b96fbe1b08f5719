package eval

import (
	"fmt"
	"strings"

	"github.com/ardanlabs/jinja"

	"sieve/tokenizer"
)

// questionMark stands for the boundary between context and question while
// a chat template renders one user message of both.
const questionMark = "\x00sieve-question\x00"

// prompter turns a task's context and question into the tokens of the
// compressed part and of the part fed after it.
type prompter struct {
	tok  tokenizer.Tokenizer
	tmpl *jinja.Template // nil: raw text
	bos  string
	eos  string
}

// newPrompter renders prompts with the model's chat template src, or as
// raw text when src is empty or raw is set.
func newPrompter(tok tokenizer.Tokenizer, src string, raw bool) (*prompter, error) {
	p := &prompter{tok: tok}
	if src == "" || raw {
		return p, nil
	}
	t, err := jinja.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("eval: the model's chat template: %w (--raw skips it)", err)
	}
	p.tmpl = t
	p.bos, p.eos = tokenText(tok, tok.BOS()), tokenText(tok, tok.EOS())
	return p, nil
}

// tokenText is the text of a control token: the tokenizer's own when it
// tells, else the usual spelling that maps to id ("" for none).
func tokenText(tok tokenizer.Tokenizer, id int32) string {
	if id < 0 {
		return ""
	}
	if t, ok := tok.(interface{ TokenText(id int32) string }); ok {
		return t.TokenText(id)
	}
	for _, s := range []string{"<s>", "</s>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"} {
		if got, ok := tok.TokenID(s); ok && got == id {
			return s
		}
	}
	return ""
}

// encode returns the tokens of the context part (BOS first) and of the
// question part: raw, context then question as they are; with a chat
// template, the user's turn of context and question with the opening of
// the assistant's after it, cut where the question starts.
func (p *prompter) encode(context, question string) ([]int32, []int32, error) {
	if p.tmpl == nil {
		ctx := p.tok.Encode(context, tokenizer.EncodeOptions{AddBOS: true})
		var q []int32
		if question != "" {
			q = p.tok.Encode(question, tokenizer.EncodeOptions{})
		}
		return ctx, q, nil
	}
	out, err := p.tmpl.RenderValues(map[string]jinja.Value{
		"messages":              jinja.FromGoValue([]any{map[string]any{"role": "user", "content": context + questionMark + question}}),
		"bos_token":             jinja.NewString(p.bos),
		"eos_token":             jinja.NewString(p.eos),
		"add_generation_prompt": jinja.NewBool(true),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("eval: chat template: %w", err)
	}
	before, after, ok := strings.Cut(out, questionMark)
	if !ok {
		return nil, nil, fmt.Errorf("eval: the chat template dropped part of the prompt (--raw skips it)")
	}
	opts := tokenizer.EncodeOptions{ParseSpecial: true, AddBOS: p.bos == "" || !strings.HasPrefix(before, p.bos)}
	ctx := p.tok.Encode(before, opts)
	return ctx, p.tok.Encode(after, tokenizer.EncodeOptions{ParseSpecial: true}), nil
}
