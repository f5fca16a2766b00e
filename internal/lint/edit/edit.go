// Package edit applies byte splices to a file and shows them as a unified
// diff. Harden works this way so that only the bytes it must change
// differ: re-encoding YAML or a Dockerfile would lose blank lines, move
// comments and reflow what a person wrote.
package edit

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Edit replaces Src[Start:End] with Text; Start == End inserts.
type Edit struct {
	Start, End int
	Text       string
	// Rule is the rule the edit satisfies, for the summary.
	Rule string
}

// Apply returns src with the edits applied. Edits must not overlap;
// insertions at the same offset keep their order.
func Apply(src []byte, edits []Edit) ([]byte, error) {
	es := slices.Clone(edits)
	slices.SortStableFunc(es, func(a, b Edit) int { return a.Start - b.Start })
	var out bytes.Buffer
	pos := 0
	for _, e := range es {
		if e.Start < pos || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("edit: overlapping or out-of-range splice [%d,%d) after %d", e.Start, e.End, pos)
		}
		out.Write(src[pos:e.Start])
		out.WriteString(e.Text)
		pos = e.End
	}
	out.Write(src[pos:])
	return out.Bytes(), nil
}

// Diff writes a unified diff (3 lines of context) between a and b, which
// differ only inside lines touched by edits; it compares lines, so it
// needs no edit list.
func Diff(w io.Writer, name string, a, b []byte) error {
	al, bl := splitLines(a), splitLines(b)
	// Common prefix and suffix, then an LCS over what is left: harden's
	// changes are few and local, so the middle is small.
	pre := 0
	for pre < len(al) && pre < len(bl) && al[pre] == bl[pre] {
		pre++
	}
	suf := 0
	for suf < len(al)-pre && suf < len(bl)-pre && al[len(al)-1-suf] == bl[len(bl)-1-suf] {
		suf++
	}
	ops := lcsOps(al[pre:len(al)-suf], bl[pre:len(bl)-suf])
	// ops in full coordinates.
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		ai   int // index in a of this line (or next line of a for '+')
		bi   int
	}
	var all []op
	for i := 0; i < pre; i++ {
		all = append(all, op{' ', al[i], i, i})
	}
	ai, bi := pre, pre
	for _, o := range ops {
		switch o {
		case ' ':
			all = append(all, op{' ', al[ai], ai, bi})
			ai++
			bi++
		case '-':
			all = append(all, op{'-', al[ai], ai, bi})
			ai++
		case '+':
			all = append(all, op{'+', bl[bi], ai, bi})
			bi++
		}
	}
	for i := 0; i < suf; i++ {
		all = append(all, op{' ', al[ai], ai, bi})
		ai++
		bi++
	}
	const ctx = 3
	changed := func(i int) bool { return all[i].kind != ' ' }
	first := true
	for i := 0; i < len(all); {
		if !changed(i) {
			i++
			continue
		}
		start := max(i-ctx, 0)
		end := i
		for j := i; j < len(all); j++ {
			if changed(j) {
				end = j
			} else if j-end > 2*ctx {
				break
			}
		}
		stop := min(end+ctx+1, len(all))
		if first {
			fmt.Fprintf(w, "--- %s\n+++ %s\n", name, name)
			first = false
		}
		var na, nb int
		for _, o := range all[start:stop] {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		as, bs := all[start].ai+1, all[start].bi+1
		if na == 0 {
			as--
		}
		if nb == 0 {
			bs--
		}
		fmt.Fprintf(w, "@@ -%d,%d +%d,%d @@\n", as, na, bs, nb)
		for _, o := range all[start:stop] {
			t := o.text
			nl := strings.HasSuffix(t, "\n")
			t = strings.TrimSuffix(t, "\n")
			fmt.Fprintf(w, "%c%s\n", o.kind, t)
			if !nl {
				fmt.Fprintln(w, `\ No newline at end of file`)
			}
		}
		i = stop
	}
	return nil
}

func splitLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

// lcsOps returns the edit script turning a into b: ' ' keep, '-' delete,
// '+' insert. Quadratic, so callers trim common ends first; past 4,000
// lines on either side it gives up on alignment and replaces the block.
func lcsOps(a, b []string) []byte {
	if len(a) > 4000 || len(b) > 4000 {
		ops := bytes.Repeat([]byte{'-'}, len(a))
		return append(ops, bytes.Repeat([]byte{'+'}, len(b))...)
	}
	n, m := len(a), len(b)
	t := make([][]int32, n+1)
	for i := range t {
		t[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	var ops []byte
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, ' ')
			i++
			j++
		case t[i+1][j] >= t[i][j+1]:
			ops = append(ops, '-')
			i++
		default:
			ops = append(ops, '+')
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, '-')
	}
	for ; j < m; j++ {
		ops = append(ops, '+')
	}
	return ops
}
