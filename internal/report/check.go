package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/redline-go/redline/internal/check"
	"github.com/redline-go/redline/internal/policy"
)

// CheckOptions tune [CheckSummary].
type CheckOptions struct {
	// Color uses ANSI colours (only on a terminal).
	Color bool
	// Width is the screen width; default 80.
	Width int
	// Actions is how many actions to show; default 3.
	Actions int
	// ReportDir, when set, is named at the end.
	ReportDir string
}

// CheckSummary writes the verdict of a check for people: a header, one
// line per red line with its mark, value and limit, the top actions. It
// fits one 80×24 screen.
func CheckSummary(w io.Writer, r *check.Result, o CheckOptions) error {
	if o.Width <= 0 {
		o.Width = 80
	}
	if o.Actions <= 0 {
		o.Actions = 3
	}
	ew := &errWriter{w: w}
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	verdict := strings.ToUpper(r.Verdict)
	code := map[string]string{policy.VerdictPass: "1;32", policy.VerdictFail: "1;31", policy.VerdictIncomplete: "1;33"}[r.Verdict]
	crossed := r.Crossed()
	head := fmt.Sprintf("redline check %s: %s", r.Target, paint(code, verdict))
	switch {
	case r.Verdict == policy.VerdictIncomplete:
		head += " (the result cannot be trusted)"
	case len(crossed) > 0:
		head += fmt.Sprintf(" (%d of %d red lines crossed)", len(crossed), countActive(r.Lines))
	default:
		head += fmt.Sprintf(" (%d red lines hold)", countActive(r.Lines))
	}
	fmt.Fprintln(ew, head)
	img := r.Image.Digest
	if len(img) > 19 {
		img = img[:19] + "…"
	}
	if img == "" {
		img = r.Image.Ref
	}
	sub := fmt.Sprintf("image %s %s", img, r.Image.Platform)
	if r.Vulnerabilities != nil {
		sub += fmt.Sprintf(" · data %dd old", r.Vulnerabilities.Data.AgeDays)
	}
	if r.Policy.Path != "" {
		sub += " · policy " + r.Policy.Path
	} else {
		sub += " · default policy"
	}
	fmt.Fprintln(ew, clip(sub, o.Width))
	for _, why := range r.Incomplete {
		fmt.Fprintln(ew, paint("33", clip("  ! "+why, o.Width)))
	}
	fmt.Fprintln(ew)
	for _, l := range r.Lines {
		mark, c := "✔", "32"
		switch l.Status {
		case policy.Fail:
			mark, c = "✘", "31"
		case policy.Warn:
			mark, c = "!", "33"
		case policy.Waived:
			mark, c = "~", "36"
		case policy.Skipped:
			mark, c = "-", "2"
		}
		val := l.Value
		if l.Status == policy.Waived {
			val = "waived: " + val
		}
		// "  ✔ vulnerabilities  VALUE  LIMIT": 2+1+1+16+1 = 21 columns
		// before the value; the value and the limit share the rest.
		rest := o.Width - 21
		vw := rest * 2 / 5
		lw := rest - vw - 1
		line := fmt.Sprintf("  %s %-16s %s %s", paint(c, mark), l.Line, pad(clip(val, vw), vw), clip(l.Limit, lw))
		fmt.Fprintln(ew, strings.TrimRight(line, " "))
	}
	shown := 0
	for _, a := range r.Actions {
		if shown == 0 {
			fmt.Fprintln(ew)
			fmt.Fprintln(ew, "Top actions:")
		}
		if shown == o.Actions {
			fmt.Fprintf(ew, "  … %d more in report.json\n", len(r.Actions)-shown)
			break
		}
		shown++
		fmt.Fprintln(ew, clip(fmt.Sprintf("  %d. %s", shown, a.Title), o.Width))
		if a.Command != "" {
			fix := ""
			if a.Fixable {
				fix = " (--fix)"
			}
			fmt.Fprintln(ew, paint("2", clip("     "+a.Command+fix, o.Width)))
		} else if a.Detail != "" {
			fmt.Fprintln(ew, paint("2", clip("     "+a.Detail, o.Width)))
		}
	}
	if r.Fix != nil {
		fmt.Fprintln(ew)
		fmt.Fprintf(ew, "--fix: before %s (%s), %d applied, %d skipped\n", strings.ToUpper(r.Fix.Before), strings.Join(r.Fix.BeforeCrossed, ", "), len(r.Fix.Applied), len(r.Fix.Skipped))
		for _, a := range r.Fix.Applied {
			fmt.Fprintln(ew, clip("  ✔ "+a.Title, o.Width))
		}
		for _, a := range r.Fix.Skipped {
			fmt.Fprintln(ew, clip("  - "+a.Title+": "+a.Note, o.Width))
		}
	}
	if o.ReportDir != "" {
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, clip("report: "+strings.TrimSuffix(o.ReportDir, "/")+"/report.html", o.Width))
	}
	return ew.err
}

func countActive(ls []policy.LineResult) int {
	n := 0
	for _, l := range ls {
		if l.Status != policy.Skipped {
			n++
		}
	}
	return n
}

func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// errWriter keeps the first write error so a renderer checks once.
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
