package analysis

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteActivations prints the activation report as aligned tables: the
// largest values, the layers, the massive dimensions and their tokens.
func WriteActivations(w io.Writer, r *Result) error {
	a := r.Activations
	fmt.Fprintf(w, "model %s, %d sequences, %d tokens; massive: |h| >= %g x the layer's median |h|\n\n",
		r.Model, r.Sequences, r.Tokens, a.Ratio)
	err := table(w, "layer\tseq\tpos\ttoken\tdim\tvalue\tx median", func(tw io.Writer) {
		for _, v := range a.Top {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%d\t%.3f\t%.1f\t\n", v.Layer, v.Seq, v.Pos, quote(v.Text), v.Dim, v.Value, v.Ratio)
		}
	})
	if err == nil {
		err = table(w, "layer\tmedian |h|\tmax |h|\tmax/median\tmassive", func(tw io.Writer) {
			for _, l := range a.Layers {
				fmt.Fprintf(tw, "%d\t%.4f\t%.3f\t%.1f\t%d\t\n", l.Layer, l.Median, l.Max, l.MaxRatio, l.Massive)
			}
		})
	}
	if err != nil || len(a.Dims) == 0 {
		if err == nil {
			_, err = fmt.Fprintf(w, "no massive activations (no |h| reaches %g x its layer's median)\n", a.Ratio)
		}
		return err
	}
	err = table(w, "massive dim\tentries\ttokens\tlayers\tmax x median", func(tw io.Writer) {
		for _, d := range a.Dims {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%.1f\t\n", d.Dim, d.Count, d.Tokens, ints(d.Layers), d.MaxRatio)
		}
	})
	if err == nil {
		err = table(w, "token\tid\toccurrences\tmassive", func(tw io.Writer) {
			for _, t := range a.TokenIDs {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", quote(t.Text), t.Token, t.Occurrences, t.Massive)
			}
		})
	}
	if err != nil {
		return err
	}
	return table(w, "seq\tpos\ttoken\tentries\tlayers\tdims\tmax x median", func(tw io.Writer) {
		for i, t := range a.Tokens {
			if i == 30 {
				fmt.Fprintf(tw, "...\t%d more\t\t\t\t\t\t\n", len(a.Tokens)-i)
				break
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%s\t%.1f\t\n", t.Seq, t.Pos, quote(t.Text), t.Count, ints(t.Layers), ints(t.Dims), t.MaxRatio)
		}
	})
}

// WriteAttention prints the attention report: one row per layer and KV
// head, then one per layer for the pooled weights.
func WriteAttention(w io.Writer, r *Result) error {
	a := r.Attention
	if a == nil {
		return fmt.Errorf("analysis: the result has no attention statistics")
	}
	fmt.Fprintf(w, "model %s, %d sequences, %d tokens; mass per query on the first token, the massive-activation tokens and the last %d keys\n\n",
		r.Model, r.Sequences, r.Tokens, a.Recent)
	return table(w, "layer\thead\tfirst\tmassive\trecent\tentropy\tkeys 90%\tkeys 95%\tkeys seen", func(tw io.Writer) {
		for _, h := range a.Heads {
			headRow(tw, h)
		}
		for _, l := range a.Layers {
			headRow(tw, l.HeadStats)
		}
	})
}

// headRow prints one row of the attention table.
func headRow(tw io.Writer, h HeadStats) {
	head := strconv.Itoa(h.Head)
	if h.Head < 0 {
		head = "all"
	}
	fmt.Fprintf(tw, "%d\t%s\t%.3f\t%.3f\t%.3f\t%.2f\t%.1f\t%.1f\t%.1f\t\n",
		h.Layer, head, h.First, h.Massive, h.Recent, h.Entropy, h.Keys90, h.Keys95, h.Seen)
}

// table prints one right-aligned table with the tab-separated header and
// the rows that fill writes, followed by a blank line.
func table(w io.Writer, header string, fill func(tw io.Writer)) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, header+"\t")
	fill(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

// quote makes a token's text printable on one line.
func quote(s string) string { return strconv.Quote(s) }

// ints formats a list of integers, shortening runs: "0-3,7".
func ints(v []int) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		j := i
		for j+1 < len(v) && v[j+1] == v[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v[i]))
		if j > i {
			fmt.Fprintf(&b, "-%d", v[j])
		}
		i = j + 1
	}
	return b.String()
}
