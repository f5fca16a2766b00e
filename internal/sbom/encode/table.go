package encode

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redline-go/redline/internal/sbom"
)

// tableWidth is the width of the table in columns (runes).
const tableWidth = 80

// typeOrder puts the table's components in reading order: the system, the
// programs, what the programs link, then the OS packages.
var typeOrder = map[sbom.Type]int{
	sbom.TypeOS:       0,
	sbom.TypeBinary:   1,
	sbom.TypeStdlib:   2,
	sbom.TypeGoModule: 3,
	sbom.TypeDeb:      4,
	sbom.TypeApk:      5,
}

func typeRank(t sbom.Type) int {
	if r, ok := typeOrder[t]; ok {
		return r
	}
	return len(typeOrder)
}

// Table writes s for people: a line naming the subject, then NAME, VERSION,
// TYPE, LAYER and PATH of every component in 80 columns (long values clipped
// with "…": names and versions at the end, paths at the start), grouped by
// type, then a count per type and the warnings.
func Table(w io.Writer, s *sbom.SBOM) error {
	if s == nil {
		return fmt.Errorf("%w: nil", ErrInvalid)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, clipEnd(subjectLine(&s.Subject), tableWidth))
	fmt.Fprintln(bw)

	comps := slices.Clone(s.Components)
	slices.SortStableFunc(comps, func(a, b sbom.Component) int {
		if r := typeRank(a.Type) - typeRank(b.Type); r != 0 {
			return r
		}
		return cmpStrings(
			[]string{string(a.Type), a.Name, a.Version, a.Path},
			[]string{string(b.Type), b.Name, b.Version, b.Path})
	})

	if len(comps) == 0 {
		fmt.Fprintln(bw, "No components found.")
	} else {
		rows := make([][5]string, 0, len(comps)+1)
		rows = append(rows, [5]string{"NAME", "VERSION", "TYPE", "LAYER", "PATH"})
		for _, c := range comps {
			layer := "-"
			if c.Layer >= 0 {
				layer = strconv.Itoa(c.Layer)
			}
			rows = append(rows, [5]string{c.Name, c.Version, string(c.Type), layer, c.Path})
		}
		widths := columnWidths(rows)
		for _, r := range rows {
			var line strings.Builder
			for i, cell := range r {
				if i > 0 {
					line.WriteString("  ")
				}
				if i == 4 {
					cell = clipStart(cell, widths[i])
				} else {
					cell = clipEnd(cell, widths[i])
				}
				line.WriteString(cell)
				if i < 4 {
					line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)))
				}
			}
			fmt.Fprintln(bw, strings.TrimRight(line.String(), " "))
		}
	}

	// One line per type, in table order, then the total.
	counts := map[sbom.Type]int{}
	var types []sbom.Type
	for _, c := range comps {
		if counts[c.Type] == 0 {
			types = append(types, c.Type)
		}
		counts[c.Type]++
	}
	if len(types) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "SUMMARY")
		for _, t := range types {
			fmt.Fprintf(bw, "  %-10s %6d\n", t, counts[t])
		}
		fmt.Fprintf(bw, "  %-10s %6d\n", "total", len(comps))
	}

	if len(s.Warnings) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintf(bw, "WARNINGS (%d)\n", len(s.Warnings))
		ws := slices.Clone(s.Warnings)
		slices.SortStableFunc(ws, func(a, b sbom.Warning) int {
			if a.Layer != b.Layer {
				return a.Layer - b.Layer
			}
			return strings.Compare(a.Path, b.Path)
		})
		for _, wn := range ws {
			// Warnings are not clipped: the message is the point.
			fmt.Fprintf(bw, "  %s\n", warningText(wn))
		}
	}
	return bw.Flush()
}

func cmpStrings(a, b []string) int {
	for i := range a {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// subjectLine names the subject: "image example.com/app:1.0 sha256:0123456789ab".
func subjectLine(sub *sbom.Subject) string {
	name := sub.Name
	if name == "" {
		name = sub.Ref
	}
	line := string(sub.Kind) + " " + name
	if sub.Version != "" {
		if sub.Kind == sbom.SubjectImage {
			line += ":" + sub.Version
		} else {
			line += " " + sub.Version
		}
	}
	if alg, sum, ok := digest(sub.Digest); ok {
		line += " " + alg + ":" + sum[:12]
	}
	return line
}

// columnWidths fits the columns into tableWidth. TYPE and LAYER keep their
// width. The others give up columns in the order they matter least: PATH
// first (clipped at its start, it keeps the file name), then VERSION, then
// NAME, each down to a comfortable width; past that, the widest of the three
// shrinks, down to a floor.
func columnWidths(rows [][5]string) [5]int {
	var w [5]int
	for _, r := range rows {
		for i, cell := range r {
			w[i] = max(w[i], utf8.RuneCountInString(cell))
		}
	}
	over := func() int { return w[0] + w[1] + w[2] + w[3] + w[4] + 2*4 - tableWidth }
	for _, step := range []struct{ col, width int }{{4, 16}, {1, 16}, {0, 24}} {
		if n := min(over(), w[step.col]-step.width); n > 0 {
			w[step.col] -= n
		}
	}
	floor := [5]int{12, 8, 0, 0, 8}
	for over() > 0 {
		widest := -1
		for _, i := range []int{0, 1, 4} {
			if w[i] > floor[i] && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break // every column at its floor; let the line run over
		}
		w[widest]--
	}
	return w
}

// clipEnd keeps the start of s within width runes.
func clipEnd(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// clipStart keeps the end of s within width runes (a path's file name).
func clipStart(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	r := []rune(s)
	return "…" + string(r[len(r)-width+1:])
}
