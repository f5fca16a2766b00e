package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/redline-go/redline/internal/vuln"
)

// ScanTable writes scan results: the data's age first (a report without
// it cannot be trusted), then findings grouped by reachability, reachable
// first, then the fix plan.
func ScanTable(w io.Writer, results []*vuln.Result) error {
	p := &printer{w: w}
	for i, r := range results {
		if i > 0 {
			p.line("")
			p.line(strings.Repeat("─", Width))
		}
		scanOne(p, r)
	}
	return p.err
}

func scanOne(p *printer, r *vuln.Result) {
	p.line(clip("redline scan  "+r.Target, Width))
	if r.Digest != "" {
		p.line(clip("digest "+r.Digest, Width))
	}
	p.line(dataLine(r.Data))
	if r.Data.Stale {
		p.note(fmt.Sprintf("WARNING: the vulnerability data is %d days old: run `redline db update`", r.Data.AgeDays))
	}
	counts := map[vuln.Reach]int{}
	suppressed := 0
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			suppressed++
			continue
		}
		counts[f.Reach]++
	}
	active := len(r.Findings) - suppressed
	head := fmt.Sprintf("FINDINGS: %d in %d components", active, r.Components)
	if active > 0 {
		var parts []string
		for _, rc := range []vuln.Reach{vuln.Called, vuln.Imported, vuln.Required, vuln.Installed} {
			if counts[rc] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[rc], rc))
			}
		}
		head += " (" + strings.Join(parts, ", ") + ")"
	}
	if suppressed > 0 {
		head += fmt.Sprintf(", %d suppressed by VEX", suppressed)
	}
	p.section(head)
	if active == 0 && suppressed == 0 {
		p.note("no known vulnerabilities.")
	}
	var last vuln.Reach
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			continue
		}
		if f.Reach != last {
			last = f.Reach
			p.line("")
			p.line("  " + strings.ToUpper(string(f.Reach)) + " — " + reachMeaning(f.Reach))
		}
		fixed := f.Fixed
		if fixed == "" {
			fixed = "no fix"
		}
		comp := f.Component.Name + " " + f.Component.Version
		p.line(clip(fmt.Sprintf("  %-15s %-8s %-36s fixed %s", f.ID, f.Severity, clip(comp, 36), fixed), Width))
		if f.Summary != "" {
			p.line(clip("      "+f.Summary, Width))
		}
		if len(f.Symbols) > 0 {
			p.line(clip("      symbols: "+strings.Join(f.Symbols, ", "), Width))
		}
		if len(f.Trace) > 0 {
			var fr []string
			for _, t := range f.Trace {
				fr = append(fr, t.Function)
			}
			p.line(clip("      path: "+strings.Join(fr, " → "), Width))
		}
		if f.Component.Path != "" && f.Component.Type != "deb" && f.Component.Type != "apk" {
			where := "      in " + f.Component.Path
			if f.Component.Layer >= 0 {
				where += fmt.Sprintf(" (layer %d)", f.Component.Layer)
			}
			p.line(clip(where, Width))
		}
	}
	if suppressed > 0 {
		p.section("SUPPRESSED BY VEX")
		for _, f := range r.Findings {
			if f.Suppressed != nil {
				p.line(clip(fmt.Sprintf("  %-15s %s %s: %s %s", f.ID, f.Component.Name, f.Component.Version, f.Suppressed.Status, f.Suppressed.Justification), Width))
			}
		}
	}
	if len(r.Fixes) > 0 {
		p.section("FIX PLAN")
		for _, fx := range r.Fixes {
			if fx.To == "" {
				p.line(clip(fmt.Sprintf("  %s %s: no release clears %s", fx.Name, fx.From, strings.Join(fx.Unfixable, ", ")), Width))
				continue
			}
			line := fmt.Sprintf("  %s %s → %s clears %d", fx.Name, fx.From, fx.To, len(fx.Clears))
			if fx.Newest != "" {
				line += " (or the newest, " + fx.Newest + ")"
			}
			p.line(clip(line, Width))
			if fx.Command != "" {
				p.line(clip("      "+fx.Command, Width))
			}
			if fx.GODEBUGTarget != "" {
				if len(fx.GODEBUG) == 0 {
					p.line(clip("      GODEBUG: no default changes for this program on "+fx.GODEBUGTarget, Width))
				}
				for i, c := range fx.GODEBUG {
					if i == 0 {
						p.line(clip(fmt.Sprintf("      GODEBUG defaults that change on %s:", fx.GODEBUGTarget), Width))
					}
					to := c.To
					if to == "" {
						to = "(removed)"
					}
					p.line(clip(fmt.Sprintf("        %-22s %s → %s  %s, %s", c.Name, c.From, to, c.Class, c.Link), Width))
				}
			}
		}
	}
	for _, w := range r.Warnings {
		p.line(clip("  warning: "+w, Width))
	}
}

func dataLine(d vuln.Data) string {
	var names []string
	for _, s := range d.Sources {
		n := s.Name
		if s.Version != "" {
			n += "@" + s.Version
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return "data: none"
	}
	return clip(fmt.Sprintf("data: %s, %s (%d days old)", strings.Join(names, ", "), d.Date.UTC().Format("2006-01-02"), d.AgeDays), Width)
}

func reachMeaning(r vuln.Reach) string {
	switch r {
	case vuln.Called:
		return "vulnerable code is reachable or present"
	case vuln.Imported:
		return "a vulnerable package is linked in, not its vulnerable code"
	case vuln.Required:
		return "only the module is in the build"
	case vuln.Installed:
		return "an installed OS package"
	}
	return ""
}
