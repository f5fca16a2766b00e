package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/redline-go/redline/internal/lint/rule"
)

// JSON writes the report as redline's JSON (schema redline.dev/lint/v1).
func JSON(w io.Writer, rep *rule.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Table writes the report for people: findings by target, each with its
// location, severity, rule and fix; suppressed findings are counted, not
// shown.
func Table(w io.Writer, rep *rule.Report) error {
	bw := &errWriter{w: w}
	byTarget := map[string][]rule.Finding{}
	for _, f := range rep.Findings {
		if f.Suppressed == nil {
			byTarget[f.Target] = append(byTarget[f.Target], f)
		}
	}
	for i, t := range rep.Targets {
		if i > 0 {
			bw.printf("\n")
		}
		fs := byTarget[t.Target]
		files := ""
		if t.Files > 0 {
			files = fmt.Sprintf(", %d files", t.Files)
		}
		bw.printf("%s (%s%s): %s\n", t.Target, t.Kind, files, count(len(fs), "finding"))
		delete(byTarget, t.Target)
		for _, f := range fs {
			where := f.Location.String()
			if where == "" {
				where = "config"
				if f.Object != "" && !strings.HasPrefix(f.Object, "image") {
					where = f.Object
				}
			}
			bw.printf("  %s  %s  %s  %s\n", where, strings.ToUpper(f.Severity.String()), f.Rule, f.Title)
			msg := f.Message
			if f.Object != "" && f.Location.String() != "" {
				msg = f.Object + ": " + msg
			}
			bw.printf("      %s\n", msg)
			if f.Fix != "" {
				bw.printf("      fix: %s\n", f.Fix)
			}
		}
	}
	if len(rep.Notes) > 0 {
		bw.printf("\nNOTES\n")
		for _, n := range rep.Notes {
			bw.printf("  %s\n", n.Message)
		}
	}
	s := rep.Summary
	bw.printf("\nSUMMARY\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  critical\t%d\n  high\t%d\n  medium\t%d\n  low\t%d\n  info\t%d\n", s.Critical, s.High, s.Medium, s.Low, s.Info)
	if s.Suppressed > 0 {
		fmt.Fprintf(tw, "  suppressed\t%d\t(redline:ignore; listed in -o json)\n", s.Suppressed)
	}
	if s.Warnings > 0 {
		fmt.Fprintf(tw, "  warnings\t%d\t(content that could not be read; on stderr)\n", s.Warnings)
	}
	tw.Flush()
	return bw.err
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// List writes the catalogue for people (`redline lint --list`).
func List(w io.Writer, rules []*rule.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTARGETS\tFIX\tTITLE")
	for _, r := range rules {
		fix := ""
		if r.Fixable {
			fix = "harden"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, targets(r), fix, r.Title)
	}
	return tw.Flush()
}

func targets(r *rule.Rule) string {
	var ts []string
	for _, t := range r.Targets {
		ts = append(ts, string(t))
	}
	return strings.Join(ts, ",")
}

// ListJSON writes the catalogue as JSON.
func ListJSON(w io.Writer, rules []*rule.Rule) error {
	type jrule struct {
		ID       string        `json:"id"`
		Severity rule.Severity `json:"severity"`
		Title    string        `json:"title"`
		Help     string        `json:"help"`
		Targets  []rule.Kind   `json:"targets"`
		Fixable  bool          `json:"fixable"`
		See      []string      `json:"see,omitempty"`
	}
	var out []jrule
	for _, r := range rules {
		out = append(out, jrule{r.ID, r.Severity, r.Title, r.Help, r.Targets, r.Fixable, r.See})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
