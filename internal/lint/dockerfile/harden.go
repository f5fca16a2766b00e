package dockerfile

import (
	"regexp"
	"strings"

	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/lint/rule"
)

var (
	goBuildRE = regexp.MustCompile(`\bgo\s+(build|install)\b`)
	apkAddRE  = regexp.MustCompile(`\bapk\s+add\b`)
	userRE    = regexp.MustCompile(`(?i)^(\s*USER\s+)(\S+)`)
	copyRE    = regexp.MustCompile(`(?i)^\s*(COPY|ADD)\s+`)
	ldflagsRE = regexp.MustCompile(`--?ldflags(=|\s+)(["'])`)
)

// Harden returns the edits that clear the fixable findings of f (the
// findings Check returned, less those suppressed). Instructions it cannot
// rewrite safely (JSON form, heredocs for appended commands, an -ldflags
// to merge) are left alone; their findings remain.
func Harden(f *File, findings []rule.Finding, o Options) []edit.Edit {
	type key struct {
		rule string
		line int
	}
	want := map[key]bool{}
	for _, fd := range findings {
		if fd.Suppressed == nil && fd.File == f.Name {
			want[key{fd.Rule, fd.Line}] = true
		}
	}
	var es []edit.Edit
	lineStart := func(l int) int { return offsetOfLine(f.Src, l) }
	lineText := func(l int) string {
		s, e := lineStart(l), lineStart(l+1)
		return strings.TrimRight(string(f.Src[s:e]), "\r\n")
	}
	for _, in := range f.Instrs {
		switch {
		case in.Cmd == "run" && !in.JSON:
			lo, hi := lineStart(in.StartLine), lineStart(in.EndLine+1)
			raw := string(f.Src[lo:hi])
			cgo, trim, strip := want[key{NoCgoOff.ID, in.StartLine}], want[key{NoTrimpath.ID, in.StartLine}], want[key{NoStrip.ID, in.StartLine}]
			if cgo || trim || strip {
				var builds []simpleCmd
				env := stageEnv(in.Stage, in)
				for _, c := range runCommands(in) {
					if len(c.words) > 0 && c.words[0] == "export" {
						for _, w := range c.words[1:] {
							if k, v, ok := strings.Cut(w, "="); ok {
								env[k] = v
							}
						}
					}
					if c.isGoBuild() {
						builds = append(builds, c)
					}
				}
				ms := goBuildRE.FindAllStringIndex(raw, -1)
				if len(ms) == len(builds) {
					for i, m := range ms {
						g := analyzeGoBuild(builds[i], env)
						if cgo && !g.cgoOff {
							es = append(es, edit.Edit{Start: lo + m[0], End: lo + m[0], Text: "CGO_ENABLED=0 ", Rule: NoCgoOff.ID})
						}
						if trim && !g.trimpath {
							es = append(es, edit.Edit{Start: lo + m[1], End: lo + m[1], Text: " -trimpath", Rule: NoTrimpath.ID})
						}
						switch {
						case strip && !g.ldflags:
							es = append(es, edit.Edit{Start: lo + m[1], End: lo + m[1], Text: ` -ldflags="-s -w"`, Rule: NoStrip.ID})
						case strip && !g.strip:
							// Merge into a quoted -ldflags of this command.
							end := len(raw)
							if i+1 < len(ms) {
								end = ms[i+1][0]
							}
							if q := ldflagsRE.FindStringSubmatchIndex(raw[m[1]:end]); q != nil {
								at := lo + m[1] + q[5]
								es = append(es, edit.Edit{Start: at, End: at, Text: "-s -w ", Rule: NoStrip.ID})
							}
						}
					}
				}
			}
			if want[key{ApkCache.ID, in.StartLine}] {
				for _, m := range apkAddRE.FindAllStringIndex(raw, -1) {
					rest := raw[m[1]:]
					if i := strings.IndexAny(rest, "&;|\n"); i >= 0 {
						rest = rest[:i]
					}
					if !strings.Contains(rest, "--no-cache") {
						es = append(es, edit.Edit{Start: lo + m[1], End: lo + m[1], Text: " --no-cache", Rule: ApkCache.ID})
					}
				}
			}
			if want[key{AptCleanup.ID, in.StartLine}] && len(in.Heredocs) == 0 {
				last := lineText(in.EndLine)
				trimmed := strings.TrimRight(last, " \t")
				if !strings.HasSuffix(trimmed, "\\") {
					at := lineStart(in.EndLine) + len(trimmed)
					es = append(es, edit.Edit{Start: at, End: at, Text: " && rm -rf /var/lib/apt/lists/*", Rule: AptCleanup.ID})
				}
			}
		case in.Cmd == "user" && want[key{LastUser.ID, in.StartLine}]:
			if m := userRE.FindStringSubmatchIndex(lineText(in.StartLine)); m != nil {
				base := lineStart(in.StartLine)
				es = append(es, edit.Edit{Start: base + m[4], End: base + m[5], Text: o.user(), Rule: LastUser.ID})
			}
		case (in.Cmd == "copy" || in.Cmd == "add") && want[key{VolumeOwner.ID, in.StartLine}]:
			user, _ := stageUser(in.Stage)
			if m := copyRE.FindStringIndex(lineText(in.StartLine)); m != nil && user != "" {
				at := lineStart(in.StartLine) + m[1]
				es = append(es, edit.Edit{Start: at, End: at, Text: "--chown=" + user + " ", Rule: VolumeOwner.ID})
			}
		case in.Cmd == "from" && want[key{LastUser.ID, in.StartLine}] && in.Stage == f.Final():
			// No USER at all: add one after the last step that may need root.
			after := in
			for _, x := range in.Stage.Instrs {
				switch x.Cmd {
				case "run", "copy", "add", "workdir", "from":
					after = x
				}
			}
			at := lineStart(after.EndLine + 1)
			text := "USER " + o.user() + newline(f.Src)
			if at == len(f.Src) && len(f.Src) > 0 && f.Src[len(f.Src)-1] != '\n' {
				text = newline(f.Src) + "USER " + o.user() + newline(f.Src)
			}
			es = append(es, edit.Edit{Start: at, End: at, Text: text, Rule: LastUser.ID})
		}
	}
	return es
}

func offsetOfLine(src []byte, l int) int {
	if l <= 1 {
		return 0
	}
	n := 1
	for i, b := range src {
		if b == '\n' {
			n++
			if n == l {
				return i + 1
			}
		}
	}
	return len(src)
}

func newline(src []byte) string {
	if i := strings.IndexByte(string(src), '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}
