package rule

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Directive is one inline suppression:
//
//	# redline:ignore RL-K8S-008,RL-K8S-013 writes its cache to the root filesystem
//	# redline:ignore-file RL-DF-002 base images are pinned by the build system
//
// An ignore directive on a line of its own covers the next instruction
// (Dockerfile) or the next YAML node with everything under it; at the end
// of a line of YAML it covers that line's node. ignore-file covers the
// whole file. The reason is required: a directive without one suppresses
// nothing and is reported as a warning.
type Directive struct {
	// Line is the line of the comment, 1-based.
	Line   int
	IDs    []string
	Reason string
	// WholeFile is set for ignore-file.
	WholeFile bool
	// Trailing is set when code precedes the comment on its line.
	Trailing bool
	// From and To are the lines covered; the parser of the file's format
	// sets them.
	From, To int
}

var directiveRE = regexp.MustCompile(`^redline:ignore(-file)?(?:\s+(\S+))?(?:\s+(.*))?$`)

// FindDirectives scans src for directives in '#' comments. With trailing
// set (YAML), a comment may follow code on the same line (after
// whitespace); otherwise (Dockerfile) only whole-line comments count.
func FindDirectives(src []byte, trailing bool) []Directive {
	if !bytes.Contains(src, []byte("redline:ignore")) {
		return nil
	}
	var ds []Directive
	line := 0
	for len(src) > 0 {
		line++
		var l []byte
		l, src, _ = bytes.Cut(src, []byte("\n"))
		i := bytes.Index(l, []byte("redline:ignore"))
		if i < 0 {
			continue
		}
		hash := bytes.LastIndexByte(l[:i], '#')
		if hash < 0 || len(bytes.TrimSpace(l[hash+1:i])) != 0 {
			continue
		}
		code := bytes.TrimSpace(l[:hash])
		if len(code) > 0 && (!trailing || (l[hash-1] != ' ' && l[hash-1] != '\t')) {
			continue
		}
		m := directiveRE.FindSubmatch(bytes.TrimRight(l[i:], " \t\r"))
		if m == nil {
			continue
		}
		d := Directive{Line: line, WholeFile: len(m[1]) > 0, Trailing: len(code) > 0, Reason: strings.TrimSpace(string(m[3]))}
		for _, id := range strings.Split(string(m[2]), ",") {
			if id = strings.TrimSpace(id); id != "" {
				d.IDs = append(d.IDs, strings.ToUpper(id))
			}
		}
		ds = append(ds, d)
	}
	return ds
}

// Suppress waives the findings of file that directives cover and returns
// warnings for directives that are malformed (no rule, no reason, an
// unknown rule). known reports whether a rule ID exists.
func Suppress(fs []Finding, ds []Directive, file string, known func(id string) bool) []Warning {
	var ws []Warning
	for _, d := range ds {
		bad := ""
		switch {
		case len(d.IDs) == 0:
			bad = "names no rule"
		case d.Reason == "":
			bad = "gives no reason"
		}
		if bad != "" {
			ws = append(ws, Warning{Location: At(file, d.Line, 0), Message: fmt.Sprintf("redline:ignore %s: it suppresses nothing (write `# redline:ignore RULE-ID reason`)", bad)})
			continue
		}
		for _, id := range d.IDs {
			if !known(id) {
				ws = append(ws, Warning{Location: At(file, d.Line, 0), Message: fmt.Sprintf("redline:ignore names unknown rule %s (see `redline lint --list`)", id)})
			}
		}
		for i := range fs {
			f := &fs[i]
			if f.File != file || f.Suppressed != nil || !slices.Contains(d.IDs, f.Rule) {
				continue
			}
			if d.WholeFile || (f.Line >= d.From && f.Line <= d.To && f.Line > 0) {
				f.Suppressed = &Suppression{Reason: d.Reason, Line: d.Line}
			}
		}
	}
	return ws
}
