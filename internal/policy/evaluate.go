package policy

import (
	"fmt"
	"go/version"
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/vuln"
)

// Status is the outcome of one line.
type Status string

// Statuses. Skipped lines had nothing to measure (no baseline for
// slimming, an image not built here for reproducible).
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"
	Waived  Status = "waived"
	Skipped Status = "skipped"
)

// Verdicts.
const (
	VerdictPass       = "pass"
	VerdictFail       = "fail"
	VerdictIncomplete = "incomplete"
)

// LineResult is one red line held against the measurements.
type LineResult struct {
	Line string `json:"line"`
	// Title names the line for people ("Non-root user").
	Title  string `json:"title"`
	Level  Level  `json:"level"`
	Status Status `json:"status"`
	// Value is what was measured, Limit what the policy allows, both for
	// people ("3.1 MiB", "≤ 6.4 MiB (binary+1MiB)").
	Value string `json:"value"`
	Limit string `json:"limit"`
	// Items name what crosses the line, for people (advisory IDs with
	// the component, rule IDs with their place, paths, capabilities); IDs
	// are the distinct identifiers among them, for tools: advisory IDs,
	// rule IDs, paths, capability names, waiver positions.
	Items []string `json:"items,omitempty"`
	IDs   []string `json:"ids,omitempty"`
	// Waivers name the waivers that applied.
	Waivers []string `json:"waivers,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Measurements are what one check saw, in the terms the lines need.
type Measurements struct {
	// CompressedBytes is the image as pulled; BinaryBytes the entrypoint
	// binary (uncompressed), BinaryPath where it is.
	CompressedBytes int64
	BinaryBytes     int64
	BinaryPath      string
	// Efficiency is layers' final/written (1 for a clean image).
	Efficiency float64
	// Slimming is the reduction against the baseline in percent; nil
	// without a baseline.
	Slimming *float64
	// Baseline names it.
	Baseline string
	// Vulns are the scan's findings (suppressed ones are skipped here).
	Vulns []vuln.Finding
	// Lint are all lint findings (image, Dockerfiles, manifests, module).
	Lint []rule.Finding
	// User is the image config's USER; UID the effective UID (-1
	// unknown); UserName when USER names a user.
	User     string
	UID      int
	UserName bool
	// FileCaps are the entrypoint's file capabilities.
	FileCaps []string
	// Shells are shell paths in the final filesystem.
	Shells []string
	// Reproducible is nil when the image was not built here.
	Reproducible *bool
	ReproNote    string
	// Data is the vulnerability data the scan used; DataMissing when
	// there was none.
	Data        vuln.Data
	DataMissing bool
	// GoVersions maps Go binaries to the toolchain that built them.
	GoVersions map[string]string
	// Toolchain is the release the policy (or --toolchain) asked for.
	Toolchain string
}

// Rules the dedicated lines own; the lint line counts every other rule.
var claimed = map[string]string{
	"RL-IMG-001": LineUser, "RL-IMG-002": LineUser, "RL-DF-001": LineUser, "RL-DF-012": LineUser,
	"RL-K8S-001": LineUser, "RL-K8S-002": LineUser, "RL-K8S-003": LineUser,
	"RL-IMG-005": LineCapabilities, "RL-K8S-005": LineCapabilities, "RL-K8S-006": LineCapabilities, "RL-K8S-007": LineCapabilities,
	"RL-IMG-006": LineShell,
	"RL-IMG-016": LineGODEBUG, "RL-DF-014": LineGODEBUG, "RL-K8S-017": LineGODEBUG,
	// The scan's findings say the same with reachability.
	"RL-GO-010": LineVulnerabilities,
}

// ClaimedBy returns the line that owns a lint rule ("" for the lint line).
func ClaimedBy(ruleID string) string { return claimed[ruleID] }

// Evaluation is the verdict and every line's result.
type Evaluation struct {
	Verdict string       `json:"verdict"`
	Lines   []LineResult `json:"lines"`
	// Incomplete says why the result cannot be trusted (exit 2).
	Incomplete []string `json:"incomplete,omitempty"`
}

// Crossed returns the error-level lines that failed.
func (e *Evaluation) Crossed() []LineResult {
	var out []LineResult
	for _, l := range e.Lines {
		if l.Status == Fail {
			out = append(out, l)
		}
	}
	return out
}

// Evaluate holds m against p at now.
func Evaluate(p *Policy, m *Measurements, now time.Time) *Evaluation {
	ev := &Evaluation{}
	w := &waivers{p: p, now: now, used: map[int]bool{}}
	add := func(lr LineResult, crossed bool) {
		lr.Level = p.Level(lr.Line)
		lr.Title = LineTitles[lr.Line]
		switch {
		case lr.Level == Off:
			lr.Status = Skipped
			if lr.Note == "" {
				lr.Note = "off in the policy"
			}
		case lr.Status == Skipped:
		case !crossed:
			lr.Status = Pass
		default:
			// A waiver of the whole line, or of every item, lets it hold.
			if ws := w.line(lr.Line); len(ws) > 0 {
				lr.Status, lr.Waivers = Waived, ws
			} else if lr.Level == Warning {
				lr.Status = Warn
			} else {
				lr.Status = Fail
			}
		}
		ev.Lines = append(ev.Lines, lr)
	}
	l := &p.Lines

	// size
	{
		limit := l.Size.Limit(m.BinaryBytes)
		lr := LineResult{Line: LineSize, Value: layers.HumanBytes(m.CompressedBytes) + " compressed"}
		if l.Size.Binary {
			lr.Limit = fmt.Sprintf("≤ %s (%s)", layers.HumanBytes(limit), l.Size.Expr)
			lr.Note = fmt.Sprintf("binary %s is %s", m.BinaryPath, layers.HumanBytes(m.BinaryBytes))
		} else {
			lr.Limit = "≤ " + layers.HumanBytes(limit)
		}
		if l.Size.Binary && m.BinaryBytes == 0 {
			lr.Status, lr.Note = Skipped, "no entrypoint binary to size the image against"
		}
		add(lr, m.CompressedBytes > limit)
	}
	// efficiency
	add(LineResult{Line: LineEfficiency, Value: fmt.Sprintf("%.1f%%", 100*m.Efficiency), Limit: fmt.Sprintf("≥ %.1f%%", 100*l.Efficiency.Min)}, m.Efficiency < l.Efficiency.Min)
	// slimming
	{
		lr := LineResult{Line: LineSlimming, Limit: fmt.Sprintf("≥ %.0f%% smaller", l.Slimming.Min)}
		if m.Slimming == nil {
			lr.Status, lr.Value, lr.Note = Skipped, "no baseline", "give build.baseline or --baseline to measure it"
			add(lr, false)
		} else {
			lr.Value = fmt.Sprintf("%.1f%% smaller", *m.Slimming)
			lr.Note = "than the baseline " + m.Baseline
			add(lr, *m.Slimming < l.Slimming.Min)
		}
	}
	// vulnerabilities
	{
		v := l.Vulnerabilities
		var ids []string
		minReach := map[string]int{"called": 3, "imported": 2, "required": 1, "any": 1}[v.Reachability]
		minSev := vuln.SeverityRank(v.Severity)
		var items []string
		for _, f := range m.Vulns {
			if f.Suppressed != nil || f.Reach.Rank() < minReach {
				continue
			}
			r := vuln.SeverityRank(f.Severity)
			if (r == 0 && v.IgnoreUnknownSeverity) || (r != 0 && r < minSev) {
				continue
			}
			if w.item(LineVulnerabilities, append([]string{f.ID}, f.Aliases...)...) {
				continue
			}
			items = append(items, fmt.Sprintf("%s %s@%s (%s)", f.ID, f.Component.Name, f.Component.Version, f.Reach))
			ids = append(ids, f.ID)
		}
		items, ids = dedupe(items), dedupe(ids)
		at := v.Reachability
		if at != "any" {
			at = "≥ " + at
		}
		sev := ""
		if v.Severity != "low" {
			sev = ", severity ≥ " + v.Severity
		}
		lr := LineResult{Line: LineVulnerabilities, Value: fmt.Sprintf("%d %s", len(items), plural(len(items), "finding", "findings")), Limit: fmt.Sprintf("0 at %s%s", at, sev), Items: items, IDs: ids}
		lr.Waivers = w.itemsUsed(LineVulnerabilities)
		add(lr, len(items) > 0)
	}
	// lint and the lines that own rules
	byLine, idsOf := map[string][]string{}, map[string][]string{}
	minLint, _ := rule.ParseSeverity(l.Lint.Severity)
	for _, f := range m.Lint {
		if f.Suppressed != nil {
			continue
		}
		line := claimed[f.Rule]
		if line == LineVulnerabilities {
			continue
		}
		if line == "" {
			line = LineLint
			if f.Severity < minLint {
				continue
			}
		}
		if w.item(line, f.Rule) {
			continue
		}
		byLine[line] = append(byLine[line], lintItem(f))
		idsOf[line] = append(idsOf[line], f.Rule)
	}
	{
		items := dedupe(byLine[LineLint])
		lr := LineResult{Line: LineLint, Value: fmt.Sprintf("%d %s", len(items), plural(len(items), "finding", "findings")), Limit: "0 at ≥ " + l.Lint.Severity, Items: items, IDs: dedupe(idsOf[LineLint]), Waivers: w.itemsUsed(LineLint)}
		add(lr, len(items) > 0)
	}
	// user
	{
		items := dedupe(byLine[LineUser])
		val := m.User
		if val == "" {
			val = "(unset: root)"
		}
		crossed := len(items) > 0 || m.UID == 0 || m.UserName
		if m.UID == 0 && len(items) == 0 {
			items = []string{"the image runs as root"}
		}
		add(LineResult{Line: LineUser, Value: val, Limit: "non-root, numeric", Items: items, IDs: dedupe(idsOf[LineUser]), Waivers: w.itemsUsed(LineUser)}, crossed)
	}
	// capabilities
	{
		allowed := caps.Of(l.Capabilities.Allow...)
		items := dedupe(byLine[LineCapabilities])
		for _, c := range m.FileCaps {
			cp, err := caps.Parse(c)
			if err != nil || !allowed.Has(cp) {
				if !w.item(LineCapabilities, c) {
					items = append(items, "file capability "+c+" on "+m.BinaryPath)
					idsOf[LineCapabilities] = append(idsOf[LineCapabilities], c)
				}
			}
		}
		val := "none"
		if len(m.FileCaps) > 0 {
			val = strings.Join(m.FileCaps, ",")
		}
		add(LineResult{Line: LineCapabilities, Value: val, Limit: "within [" + allowed.String() + "]", Items: items, IDs: dedupe(idsOf[LineCapabilities]), Waivers: w.itemsUsed(LineCapabilities)}, len(items) > 0)
	}
	// shell
	{
		items := slices.Clone(m.Shells)
		items = slices.DeleteFunc(items, func(s string) bool { return w.item(LineShell, s) })
		val := "none"
		if len(items) > 0 {
			val = strings.Join(items, ", ")
		}
		add(LineResult{Line: LineShell, Value: val, Limit: "no shell", Items: items, IDs: items, Waivers: w.itemsUsed(LineShell)}, len(items) > 0)
	}
	// reproducible
	{
		lr := LineResult{Line: LineReproducible, Limit: "same digest when rebuilt", Note: m.ReproNote}
		switch {
		case m.Reproducible == nil:
			lr.Status, lr.Value = Skipped, "not built here"
			add(lr, false)
		case *m.Reproducible:
			lr.Value = "same digest"
			add(lr, false)
		default:
			lr.Value = "digests differ"
			add(lr, true)
		}
	}
	// data
	{
		lr := LineResult{Line: LineData, Limit: fmt.Sprintf("≤ %d days old", l.Data.MaxAgeDays)}
		crossed := false
		if m.DataMissing {
			lr.Value, crossed = "no vulnerability data", true
		} else {
			lr.Value = fmt.Sprintf("%d days old", m.Data.AgeDays)
			lr.Note = "data of " + m.Data.Date.UTC().Format(time.DateOnly)
			crossed = m.Data.AgeDays > l.Data.MaxAgeDays
			if crossed {
				lr.Note += "; run `redline db update` (through GOPROXY) or import newer data"
			}
		}
		add(lr, crossed)
	}
	// godebug
	{
		items := dedupe(byLine[LineGODEBUG])
		add(LineResult{Line: LineGODEBUG, Value: fmt.Sprintf("%d weakened %s", len(items), plural(len(items), "default", "defaults")), Limit: "no security default weaker than the toolchain's", Items: items, IDs: dedupe(idsOf[LineGODEBUG]), Waivers: w.itemsUsed(LineGODEBUG)}, len(items) > 0)
	}
	// toolchain
	{
		lr := LineResult{Line: LineToolchain}
		var items []string
		var versions []string
		for path, v := range m.GoVersions {
			versions = append(versions, v)
			if m.Toolchain != "" && CompareGo(v, m.Toolchain) < 0 {
				items = append(items, fmt.Sprintf("%s built with %s", path, v))
			}
		}
		slices.Sort(items)
		versions = dedupe(versions)
		lr.Value = strings.Join(versions, ", ")
		if lr.Value == "" {
			lr.Value = "no Go binary"
		}
		if m.Toolchain == "" {
			lr.Status, lr.Limit, lr.Note = Skipped, "not pinned", "pin it with build.toolchain"
		} else {
			lr.Limit = "≥ " + m.Toolchain
		}
		lr.Items = items
		add(lr, len(items) > 0)
	}
	// waivers that expired are findings of their own.
	{
		var items []string
		for _, wv := range p.Waivers {
			if wv.Expired(now) {
				what := wv.Line
				if wv.ID != "" {
					what += " " + wv.ID
				}
				items = append(items, fmt.Sprintf("%s: waiver of %s expired on %s (%s)", wv.Pos, what, wv.Expires.Format(time.DateOnly), wv.Reason))
			}
		}
		if len(p.Waivers) > 0 {
			lr := LineResult{Line: LineWaivers, Title: LineTitles[LineWaivers], Level: Error, Value: fmt.Sprintf("%d expired", len(items)), Limit: "none expired", Items: items}
			lr.Status = Pass
			if len(items) > 0 {
				lr.Status = Fail
			}
			ev.Lines = append(ev.Lines, lr)
		}
	}

	ev.Verdict = VerdictPass
	if len(ev.Crossed()) > 0 {
		ev.Verdict = VerdictFail
	}
	// Missing or stale data beyond an error-level line makes the result
	// untrustworthy: "no vulnerabilities" would be a false clean.
	for _, lr := range ev.Lines {
		if lr.Line == LineData && lr.Status == Fail {
			ev.Incomplete = append(ev.Incomplete, "vulnerability data: "+lr.Value+", the policy accepts "+lr.Limit)
		}
	}
	if len(ev.Incomplete) > 0 {
		ev.Verdict = VerdictIncomplete
	}
	return ev
}

func lintItem(f rule.Finding) string {
	where := f.File
	if where == "" {
		where = f.Target
	}
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, f.Line)
	}
	s := f.Rule + " " + f.Title
	if where != "" {
		s += " (" + where + ")"
	}
	return s
}

// waivers tracks which waivers applied.
type waivers struct {
	p    *Policy
	now  time.Time
	used map[int]bool
}

// line returns the live waivers of a whole line.
func (w *waivers) line(line string) []string {
	var out []string
	for i, wv := range w.p.Waivers {
		if wv.Line == line && wv.ID == "" && !wv.Expired(w.now) {
			w.used[i] = true
			out = append(out, wv.Pos+": "+wv.Reason)
		}
	}
	return out
}

// item reports whether a live waiver covers one finding of a line.
func (w *waivers) item(line string, ids ...string) bool {
	for i, wv := range w.p.Waivers {
		if wv.Line != line || wv.ID == "" || wv.Expired(w.now) {
			continue
		}
		for _, id := range ids {
			if strings.EqualFold(id, wv.ID) || strings.EqualFold(strings.TrimPrefix(strings.ToUpper(id), "CAP_"), strings.TrimPrefix(strings.ToUpper(wv.ID), "CAP_")) {
				w.used[i] = true
				return true
			}
		}
	}
	return false
}

// itemsUsed lists the per-finding waivers of a line that applied.
func (w *waivers) itemsUsed(line string) []string {
	var out []string
	for i, wv := range w.p.Waivers {
		if wv.Line == line && wv.ID != "" && w.used[i] {
			out = append(out, fmt.Sprintf("%s: %s waived (%s)", wv.Pos, wv.ID, wv.Reason))
		}
	}
	return out
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// CompareGo orders Go releases, "go1.26.8" < "go1.27.3", release
// candidates before their release (go/version's order). A bare "go1.N"
// names the release go1.N.0, as Go named releases before 1.21 and as a
// policy pin means it.
func CompareGo(a, b string) int {
	return version.Compare(releaseName(a), releaseName(b))
}

func releaseName(v string) string {
	if version.IsValid(v) && version.Lang(v) == v {
		return v + ".0"
	}
	return v
}
