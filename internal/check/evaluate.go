package check

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/redline-go/redline/internal/godebug"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/vuln"
)

// mergeSource grades the image's findings with the source analysis of
// the package (govulncheck's call graph): a finding the binary's
// function table calls "called" but the call graph never reaches is
// lowered to the source's level, with the reason kept. A source scan that
// failed leaves the binary's grades (never a false clean).
func (r *run) mergeSource(src *vuln.Result, err error) {
	vr := r.res.Vulnerabilities
	if err != nil {
		if errors.Is(err, errSkipped) {
			r.res.Warnings = append(r.res.Warnings, "source reachability skipped: findings keep the binary's symbol-level grade")
		} else {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("source reachability unavailable (%v): findings keep the binary's symbol-level grade", err))
		}
		return
	}
	best := map[string]vuln.Finding{}
	for _, f := range src.Findings {
		for _, id := range append([]string{f.ID}, f.Aliases...) {
			if b, ok := best[id]; !ok || f.Reach.Rank() > b.Reach.Rank() {
				best[id] = f
			}
		}
	}
	var lowered []string
	for i := range vr.Findings {
		f := &vr.Findings[i]
		if f.Component.Type != "go-stdlib" && f.Component.Type != "go-module" && f.Component.Type != "stdlib" {
			continue
		}
		if r.res.Size.BinaryPath != "" && f.Component.Path != "" && f.Component.Path != r.res.Size.BinaryPath {
			continue
		}
		s, ok := best[f.ID]
		if !ok {
			continue
		}
		if s.Reach.Rank() < f.Reach.Rank() {
			lowered = append(lowered, fmt.Sprintf("%s %s→%s", f.ID, f.Reach, s.Reach))
			f.Reach = s.Reach
			f.Symbols = nil
		}
		if len(f.Trace) == 0 && len(s.Trace) > 0 {
			f.Trace = s.Trace
		}
	}
	if len(lowered) > 0 {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("source analysis of %s: %d %s linked but never called: %s", r.pkgDir, len(lowered), plural(len(lowered), "finding is", "findings are"), strings.Join(lowered, ", ")))
	}
}

// measurements gathers what the lines need.
func (r *run) measurements() *policy.Measurements {
	res := r.res
	m := &policy.Measurements{
		CompressedBytes: res.Size.CompressedBytes, BinaryBytes: res.Size.BinaryBytes, BinaryPath: res.Size.BinaryPath,
		Efficiency: res.Analysis.Summary.Efficiency,
		Vulns:      res.Vulnerabilities.Findings, Lint: r.allLint(),
		User: res.Privilege.User, UID: res.Privilege.UID, FileCaps: res.Privilege.FileCaps, Shells: res.Privilege.Shells,
		Reproducible: res.reproducible, ReproNote: res.reproNote,
		Data: res.Vulnerabilities.Data, GoVersions: map[string]string{}, Toolchain: r.pol.Build.Toolchain,
	}
	if f := res.facts; f != nil {
		m.UserName = f.UserName
	}
	if res.Comparison != nil {
		p := res.Comparison.Reduction.CompressedPercent
		m.Slimming, m.Baseline = &p, res.Size.Baseline.Ref
	}
	for _, b := range res.SBOM.GoBinaries {
		if b.GoVersion != "" {
			m.GoVersions[b.Path] = b.GoVersion
		}
	}
	return m
}

// evaluate holds the result against the policy and derives the actions.
func (r *run) evaluate() {
	ev := policy.Evaluate(r.pol, r.measurements(), r.now())
	r.res.Verdict, r.res.Lines, r.res.Incomplete = ev.Verdict, ev.Lines, ev.Incomplete
	r.res.Actions = r.actions(ev)
	r.res.Privilege.Checks = r.privilegeChecks()
}

// privilegeChecks are the least-privilege facts for people: one per
// question, answered from the image's lint findings and facts.
func (r *run) privilegeChecks() []PrivilegeCheck {
	found := map[string][]string{}
	for _, f := range r.allLint() {
		if f.Suppressed == nil && f.Kind == rule.Image {
			found[f.Rule] = append(found[f.Rule], f.Message)
		}
	}
	p := r.res.Privilege
	check := func(name string, ok bool, okDetail, badDetail string) PrivilegeCheck {
		if ok {
			return PrivilegeCheck{Name: name, OK: true, Detail: okDetail}
		}
		return PrivilegeCheck{Name: name, Detail: badDetail}
	}
	first := func(id string) string {
		if ms := found[id]; len(ms) > 0 {
			return ms[0]
		}
		return ""
	}
	user := p.User
	if user == "" {
		user = "(unset)"
	}
	caps := "none"
	if len(p.FileCaps) > 0 {
		caps = strings.Join(p.FileCaps, ", ")
	}
	return []PrivilegeCheck{
		check("runs as a non-root user", p.UID > 0, "USER "+user, "USER "+user+": "+strings.TrimSpace(first("RL-IMG-001")+" the container runs as root")),
		check("the user is numeric", found["RL-IMG-002"] == nil, "USER "+user, first("RL-IMG-002")),
		check("file capabilities within the allow-list", found["RL-IMG-005"] == nil, caps, first("RL-IMG-005")),
		check("no shell", len(p.Shells) == 0, "none in the final filesystem", strings.Join(p.Shells, ", ")),
		check("no package manager", found["RL-IMG-007"] == nil, "none", first("RL-IMG-007")),
		check("no setuid or setgid file", found["RL-IMG-003"] == nil, "none", first("RL-IMG-003")),
		check("no world-writable path without the sticky bit", found["RL-IMG-004"] == nil, "none", first("RL-IMG-004")),
		check("no secret in the environment or layers", found["RL-IMG-008"] == nil && found["RL-IMG-009"] == nil, "none found", strings.TrimSpace(first("RL-IMG-008")+" "+first("RL-IMG-009"))),
		check("labels keep their promises", found["RL-IMG-015"] == nil, "dev.redline labels match the image", first("RL-IMG-015")),
	}
}

// actions says what clears each crossed (or warned) line.
func (r *run) actions(ev *policy.Evaluation) []Action {
	var out []Action
	res := r.res
	for _, lr := range ev.Lines {
		if lr.Status != policy.Fail && lr.Status != policy.Warn {
			continue
		}
		switch lr.Line {
		case policy.LineVulnerabilities:
			out = append(out, r.vulnActions(lr)...)
		case policy.LineLint, policy.LineUser, policy.LineCapabilities, policy.LineGODEBUG:
			if lr.Line == policy.LineGODEBUG {
				if a, ok := r.goLineAction(lr); ok {
					out = append(out, a)
				}
			}
			out = append(out, r.lintActions(lr)...)
			if lr.Line == policy.LineCapabilities && len(res.Privilege.FileCaps) > 0 && r.pkgDir != "" {
				out = append(out, Action{Line: lr.Line, Title: "grant only allowed capabilities in build.caps of " + r.policyName(), Detail: "the binary carries " + strings.Join(res.Privilege.FileCaps, ",")})
			}
			if lr.Line == policy.LineUser && len(lr.Items) > 0 && lr.Items[0] == "the image runs as root" {
				out = append(out, Action{Line: lr.Line, Title: "run as a numeric non-root user (USER 65532:65532; `redline build` does by default)"})
			}
		case policy.LineShell:
			out = append(out, Action{Line: lr.Line, Title: "drop the shell: build on redline's static base (`redline build`) or distroless static", Detail: strings.Join(lr.Items, ", ")})
		case policy.LineSize:
			t := "shrink the image below " + lr.Limit
			var big []string
			for i, f := range res.Analysis.LargestFiles {
				if i == 3 || f.Path == res.Size.BinaryPath {
					continue
				}
				big = append(big, fmt.Sprintf("%s (%s)", f.Path, layers.HumanBytes(f.Bytes)))
			}
			d := "the largest files besides the binary: " + strings.Join(big, ", ")
			if len(big) == 0 {
				d = ""
			}
			out = append(out, Action{Line: lr.Line, Title: t, Detail: d})
		case policy.LineEfficiency:
			var w []string
			for i, x := range res.Analysis.Waste {
				if i == 3 {
					break
				}
				w = append(w, fmt.Sprintf("%s (%s)", x.Path, layers.HumanBytes(x.ReclaimableBytes)))
			}
			out = append(out, Action{Line: lr.Line, Title: fmt.Sprintf("stop writing files a later layer deletes or overwrites (%s reclaimable)", layers.HumanBytes(res.Analysis.Summary.ReclaimableBytes)), Detail: strings.Join(w, ", ")})
		case policy.LineSlimming:
			out = append(out, Action{Line: lr.Line, Title: "build with `redline build` (static base, stripped static binary) instead of the baseline's way"})
		case policy.LineData:
			out = append(out, Action{Line: lr.Line, Title: "refresh the vulnerability data: redline db update", Command: "redline db update"})
		case policy.LineToolchain:
			out = append(out, Action{Line: lr.Line, Title: "build with " + r.pol.Build.Toolchain + " (the policy's build.toolchain)", Detail: strings.Join(lr.Items, "; ")})
		case policy.LineReproducible:
			out = append(out, Action{Line: lr.Line, Title: "make the build reproducible: " + lr.Note})
		case policy.LineWaivers:
			out = append(out, Action{Line: lr.Line, Title: "renew or remove the expired waivers in " + r.policyName(), Detail: strings.Join(lr.Items, "; ")})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Clears) > len(out[j].Clears) })
	return out
}

func (r *run) policyName() string {
	if r.pol.Path != "" {
		return r.pol.Path
	}
	return policy.FileName
}

// vulnActions turns the scan's fix advice into actions, counting only the
// findings that cross the line.
func (r *run) vulnActions(lr policy.LineResult) []Action {
	crossing := map[string]bool{}
	for _, id := range lr.IDs {
		crossing[id] = true
	}
	r.res.crossingIDs = crossing
	var out []Action
	for _, fx := range r.res.Vulnerabilities.Fixes {
		var clears []string
		for _, id := range fx.Clears {
			if crossing[id] {
				clears = append(clears, id)
			}
		}
		if len(clears) == 0 {
			continue
		}
		a := Action{Line: lr.Line, Clears: clears}
		n := fmt.Sprintf("%d reachable %s", len(clears), plural(len(clears), "finding", "findings"))
		switch fx.Kind {
		case "toolchain":
			to := fx.To
			if fx.Newest != "" && r.pol.Build.Toolchain != "" {
				to = fx.Newest
			}
			a.Title = fmt.Sprintf("upgrade Go to %s — clears %s", to, n)
			if fx.Newest != "" && fx.Newest != to {
				a.Detail = "the newest release, " + fx.Newest + ", also clears them"
			}
			if r.pkgDir != "" {
				a.Fixable = true
				if r.pol.Path != "" {
					a.Command = fmt.Sprintf("set build.toolchain: %s in %s", to, r.pol.Path)
				} else {
					a.Command = "go mod edit -toolchain=" + to
				}
			}
			if len(fx.GODEBUG) > 0 {
				a.Detail = strings.TrimPrefix(a.Detail+"; ", "; ") + fmt.Sprintf("%d GODEBUG defaults change on %s (see the fix plan)", len(fx.GODEBUG), fx.GODEBUGTarget)
			}
		case "module":
			a.Title = fmt.Sprintf("upgrade %s to %s — clears %s", fx.Name, fx.To, n)
			a.Command = fx.Command
			a.Fixable = r.pkgDir != "" && fx.Command != ""
		default:
			a.Title = fmt.Sprintf("upgrade the package %s to %s — clears %s", fx.Name, fx.To, n)
			a.Detail = "rebuild the base image with the fixed package"
		}
		out = append(out, a)
	}
	return out
}

// lintActions names each crossing lint finding's fix with its place.
func (r *run) lintActions(lr policy.LineResult) []Action {
	want := map[string]bool{}
	for _, id := range lr.IDs {
		want[id] = true
	}
	var out []Action
	seen := map[string]bool{}
	for _, f := range r.allLint() {
		if f.Suppressed != nil || !want[f.Rule] {
			continue
		}
		if c := policy.ClaimedBy(f.Rule); (c == "" && lr.Line != policy.LineLint) || (c != "" && c != lr.Line) {
			continue
		}
		where := f.File
		if where == "" {
			where = f.Path
		}
		if f.Line > 0 {
			where = fmt.Sprintf("%s:%d", where, f.Line)
		}
		title := f.Fix
		if title == "" {
			title = f.Title
		}
		if where != "" {
			title += " (" + where + ")"
		}
		if seen[title] {
			continue
		}
		seen[title] = true
		a := Action{Line: lr.Line, Title: title, Detail: f.Message, Clears: []string{f.Rule}}
		if rl := lint.Lookup(f.Rule); rl != nil && rl.Fixable && f.File != "" && (f.Kind == rule.Kubernetes || f.Kind == rule.Dockerfile) {
			a.Fixable, a.Command = true, "redline harden --write "+f.File
		}
		out = append(out, a)
	}
	return out
}

// goLineAction raises the module's go line to the release that made the
// weakened settings' secure values the default (GODEBUG follows the main
// module's go line, not the toolchain): fixable for a package built here.
// Settings pinned on purpose (godebug lines, //go:debug) are not fixed.
func (r *run) goLineAction(lr policy.LineResult) (Action, bool) {
	if r.pkgDir == "" || r.res.Inventory == nil {
		return Action{}, false
	}
	need, names := "", []string{}
	for _, c := range r.res.Inventory.Components {
		if c.Go == nil || c.Go.GoVersion == "" {
			continue
		}
		rep := godebug.Effective(godebug.Binary{Name: c.Path, GoVersion: c.Go.GoVersion, DefaultGODEBUG: c.Go.Get("DefaultGODEBUG")}, "")
		for _, f := range rep.Findings() {
			if f.Acknowledged || f.Origin != godebug.OriginGoLine || f.Changed == "" {
				continue
			}
			names = append(names, f.Name+"="+f.Value.Value)
			if need == "" || policy.CompareGo("go"+f.Changed, "go"+need) > 0 {
				need = f.Changed
			}
		}
	}
	if need == "" {
		return Action{}, false
	}
	slices.Sort(names)
	names = slices.Compact(names)
	return Action{
		Line: lr.Line, Fixable: true, Clears: names,
		Title:   fmt.Sprintf("raise the go line to go %s — restores the secure defaults of %s", need, strings.Join(names, ", ")),
		Detail:  "GODEBUG defaults follow the main module's go line, not the toolchain; `redline scan --fix-plan` lists what else changes",
		Command: "go mod edit -go=" + need,
	}, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
