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
	// Actions is how many actions to show at most; default 3.
	Actions int
	// Height is the screen height the summary fits; default 24.
	Height int
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
	if o.Height <= 0 {
		o.Height = 24
	}
	var out []string
	println := func(s string) { out = append(out, s) }
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	verdict := strings.ToUpper(r.Verdict)
	code := map[string]string{policy.VerdictPass: "1;32", policy.VerdictFail: "1;31", policy.VerdictIncomplete: "1;33"}[r.Verdict]
	crossed := r.Crossed()
	note := ""
	switch {
	case r.Verdict == policy.VerdictIncomplete:
		note = " (the result cannot be trusted)"
	case len(crossed) > 0:
		note = fmt.Sprintf(" (%d of %d red lines crossed)", len(crossed), countActive(r.Lines))
	default:
		note = fmt.Sprintf(" (%d red lines hold)", countActive(r.Lines))
	}
	room := o.Width - utf8.RuneCountInString("redline check : "+verdict+note)
	head := fmt.Sprintf("redline check %s: %s%s", clipLeft(r.Target, max(room, 8)), paint(code, verdict), note)
	println(head)
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
	println(clip(sub, o.Width))
	for _, why := range r.Incomplete {
		println(paint("33", clip("  ! "+why, o.Width)))
	}
	println("")
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
		println(strings.TrimRight(line, " "))
	}
	var tail []string
	if r.Fix != nil {
		var done []string
		for _, a := range r.Fix.Applied {
			done = append(done, a.Title)
		}
		line := fmt.Sprintf("--fix: was %s (%s); applied %d, skipped %d", strings.ToUpper(r.Fix.Before), strings.Join(r.Fix.BeforeCrossed, ", "), len(r.Fix.Applied), len(r.Fix.Skipped))
		if len(done) > 0 {
			line += ": " + strings.Join(done, "; ")
		}
		tail = append(tail, "", clip(line, o.Width))
	}
	if o.ReportDir != "" {
		tail = append(tail, clip("report: "+strings.TrimSuffix(o.ReportDir, "/")+"/report.html", o.Width))
	}
	// The actions get what is left of the screen: a title line each, and
	// a second line (the command or the detail) while room remains.
	if len(r.Actions) > 0 {
		budget := o.Height - len(out) - len(tail) - 2
		n := min(len(r.Actions), o.Actions)
		if n < len(r.Actions) {
			budget-- // the "… more" line
		}
		n = max(min(n, budget), 1)
		extra := budget - n
		println("")
		println("Top actions:")
		for i, a := range r.Actions[:n] {
			println(clip(fmt.Sprintf("  %d. %s", i+1, a.Title), o.Width))
			second := a.Detail
			if a.Command != "" {
				second = a.Command
				if a.Fixable {
					second += " (--fix)"
				}
			}
			if second != "" && extra > 0 {
				extra--
				println(paint("2", clip("     "+second, o.Width)))
			}
		}
		if n < len(r.Actions) {
			println(fmt.Sprintf("  … %d more in report.json", len(r.Actions)-n))
		}
	}
	out = append(out, tail...)
	_, err := io.WriteString(w, strings.Join(out, "\n")+"\n")
	return err
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
