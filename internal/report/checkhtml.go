package report

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/check"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/vuln"
)

// The check report is one self-contained HTML file: styles inline, charts
// inline SVG drawn by the template, no script and nothing fetched, so it
// opens from disk, offline, as a CI artifact or an e-mail attachment.
//
//go:embed templates/check.html.tmpl templates/check.css
var checkTemplates embed.FS

var checkTmpl = template.Must(template.New("check.html.tmpl").Funcs(template.FuncMap{
	"bytes": hb,
	"pctw":  func(f float64) string { return fmt.Sprintf("%.2f", f) },
}).ParseFS(checkTemplates, "templates/check.html.tmpl"))

var checkCSS = func() template.CSS {
	b, err := checkTemplates.ReadFile("templates/check.css")
	if err != nil {
		panic(err)
	}
	// The style sheet is ours, embedded at build time: trusted CSS.
	return template.CSS(b)
}()

// CheckHTML writes r as report.html: the verdict first, then the red
// lines, the actions that clear them, size charts, vulnerabilities,
// privilege checks, lint findings, the SBOM summary and timings. The page
// is rendered completely before anything is written, so w gets a whole
// report or nothing.
func CheckHTML(w io.Writer, r *check.Result) error {
	if r == nil {
		return fmt.Errorf("report: no check result to render")
	}
	var buf bytes.Buffer
	if err := checkTmpl.Execute(&buf, newCheckView(r)); err != nil {
		return fmt.Errorf("rendering the HTML report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// checkView is what the template shows: r, plus everything computed for
// people (labels, percentages, sorted tables).
type checkView struct {
	R       *check.Result
	CSS     template.CSS
	Verdict verdictView
	Meta    []metaItem
	KPIs    []kpi
	Lines   []lineView
	Counts  lineCounts

	Layers     []barRow
	LayerScale string
	Components []compRow
	CompTotal  int64
	Slimming   *slimView

	Vulns      []vulnRow
	VulnCounts []countChip
	Suppressed int
	Fixes      []vuln.Fix
	DataLine   string
	// DataSources name the vulnerability data, version and size.
	DataSources []string

	Priv      []metaItem
	Lint      []lintRow
	LintCount []countChip
	LintNotes []string

	SBOMTypes []compRow
	Timings   []barRow
	TotalTime string
	Warnings  []string
	Generated string
}

type verdictView struct {
	Class, Label, Headline string
	Reasons                []string
}

type metaItem struct {
	Label, Value string
	Mono         bool
	Tone         string
}

type kpi struct {
	Label, Value, Note, Tone string
}

type lineCounts struct {
	Pass, Fail, Warn, Waived, Skipped, Total int
}

type lineView struct {
	Name, Title, Status, Icon, StatusLabel string
	Level                                  string
	Value, Limit, Note                     string
	Items, Waivers                         []string
	// Links go from the line to the finding rows of the identifiers that
	// cross it (advisories, lint rules).
	Links []link
	ids   []string
}

type link struct{ Href, Text string }

// barRow is one bar of a chart: A (and B, when set) as percentages of the
// chart's largest value.
type barRow struct {
	Label, Sub   string
	A, B         float64
	AText, BText string
	HasB         bool
}

type compRow struct {
	Name, Note string
	Bytes      int64
	Count      int
	Pct, X     float64
	Class      string
}

type slimView struct {
	Ref       string
	Reduction string
	Bars      []slimBar
}

type slimBar struct {
	Metric             string
	Before, After      float64
	BeforeTxt, AfterTx string
	Delta              string
}

type countChip struct {
	Label, Class string
	N            int
}

type vulnRow struct {
	// Anchor is the row's id, on the first row of each advisory.
	Anchor                                  string
	ID, URL, Summary, Severity, Reach, CVSS string
	Aliases                                 []string
	Component, CompType, Where              string
	Fixed, FixCommand                       string
	Symbols                                 []string
	Trace                                   []vuln.Frame
	Suppressed                              string
}

type lintRow struct {
	// Anchor is the row's id, on the first row of each rule.
	Anchor                                                   string
	Rule, Severity, Title, Message, Where, Object, Fix, Kind string
	Suppressed                                               string
}

func newCheckView(r *check.Result) *checkView {
	v := &checkView{R: r, CSS: checkCSS}
	if !r.Created.IsZero() {
		v.Generated = r.Created.UTC().Format("2006-01-02 15:04 UTC")
	}
	v.lines()
	v.verdict()
	v.meta()
	v.size()
	v.vulns()
	v.privilege()
	v.lint()
	v.sbom()
	v.timings()
	v.kpis()
	v.Warnings = slices.Clone(r.Warnings)
	if r.Vulnerabilities != nil {
		v.Warnings = append(v.Warnings, r.Vulnerabilities.Warnings...)
	}
	if r.Lint != nil {
		for _, w := range r.Lint.Warnings {
			v.Warnings = append(v.Warnings, htmlJoin(": ", w.Target, w.Location.String(), w.Message))
		}
	}
	v.links()
	return v
}

func (v *checkView) lines() {
	for _, l := range v.R.Lines {
		lv := lineView{
			Name: l.Line, Title: cmp.Or(policy.LineTitles[l.Line], l.Line),
			Status: string(l.Status), Level: string(l.Level),
			Value: l.Value, Limit: l.Limit, Note: l.Note,
			Items: l.Items, Waivers: l.Waivers, ids: l.IDs,
		}
		switch l.Status {
		case policy.Pass:
			lv.Icon, lv.StatusLabel = "✔", "holds"
			v.Counts.Pass++
		case policy.Fail:
			lv.Icon, lv.StatusLabel = "✘", "crossed"
			v.Counts.Fail++
		case policy.Warn:
			lv.Icon, lv.StatusLabel = "!", "warning"
			v.Counts.Warn++
		case policy.Waived:
			lv.Icon, lv.StatusLabel = "≈", "waived"
			v.Counts.Waived++
		default:
			lv.Icon, lv.StatusLabel = "–", "skipped"
			lv.Status = string(policy.Skipped)
			v.Counts.Skipped++
		}
		v.Counts.Total++
		v.Lines = append(v.Lines, lv)
	}
}

// links anchors the first finding row of each advisory (aliases too) and
// each lint rule, and links every red line to the rows of the identifiers
// that cross it.
func (v *checkView) links() {
	target := map[string]string{}
	anchor := func(id, prefix string) string {
		if _, ok := target[id]; ok || id == "" {
			return ""
		}
		a := prefix + id
		target[id] = a
		return a
	}
	for i := range v.Vulns {
		r := &v.Vulns[i]
		if r.Anchor = anchor(r.ID, "v-"); r.Anchor != "" {
			for _, a := range r.Aliases {
				if _, ok := target[a]; !ok {
					target[a] = r.Anchor
				}
			}
		}
	}
	for i := range v.Lint {
		v.Lint[i].Anchor = anchor(v.Lint[i].Rule, "l-")
	}
	for i := range v.Lines {
		for _, id := range v.Lines[i].ids {
			if a, ok := target[id]; ok {
				v.Lines[i].Links = append(v.Lines[i].Links, link{Href: "#" + a, Text: id})
			}
		}
	}
}

func (v *checkView) verdict() {
	r := v.R
	c := v.Counts
	switch r.Verdict {
	case policy.VerdictPass:
		v.Verdict = verdictView{Class: "pass", Label: "Pass", Headline: "Every red line holds: this image may ship."}
		if c.Warn > 0 {
			v.Verdict.Headline = fmt.Sprintf("Every error-level red line holds: this image may ship (%d %s).", c.Warn, htmlPlural(c.Warn, "warning", "warnings"))
		}
	case policy.VerdictFail:
		crossed := r.Crossed()
		v.Verdict = verdictView{Class: "fail", Label: "Fail", Headline: fmt.Sprintf("%d %s crossed: %s.", len(crossed), htmlPlural(len(crossed), "red line", "red lines"), strings.Join(lineTitleList(crossed), ", "))}
	default:
		v.Verdict = verdictView{Class: "incomplete", Label: "Incomplete", Headline: "The result cannot be trusted: part of the check could not be done."}
		if r.Verdict != policy.VerdictIncomplete {
			v.Verdict.Headline = fmt.Sprintf("Unknown verdict %q: treat the result as incomplete.", r.Verdict)
		}
	}
	v.Verdict.Reasons = r.Incomplete
}

func lineTitleList(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = cmp.Or(policy.LineTitles[l], l)
	}
	return out
}

func (v *checkView) meta() {
	r := v.R
	add := func(label, value string, mono bool) {
		if value != "" {
			v.Meta = append(v.Meta, metaItem{Label: label, Value: value, Mono: mono})
		}
	}
	kind := r.Kind
	switch kind {
	case "package":
		kind = "Go package, built here"
	case "image":
		kind = "image"
	}
	add("Kind", kind, false)
	if r.Image.Ref != r.Target {
		add("Image", cmp.Or(r.Image.Name, r.Image.Ref), true)
	}
	add("Digest", r.Image.Digest, true)
	add("Platform", r.Image.Platform, true)
	for _, w := range r.Image.Written {
		add("Written to", w, true)
	}
	v.DataLine = "no vulnerability data"
	tone := "bad"
	if r.Vulnerabilities != nil && !r.Vulnerabilities.Data.Date.IsZero() {
		d := r.Vulnerabilities.Data
		v.DataLine = fmt.Sprintf("%d %s old (%s)", d.AgeDays, htmlPlural(d.AgeDays, "day", "days"), d.Date.UTC().Format(time.DateOnly))
		for _, s := range d.Sources {
			v.DataSources = append(v.DataSources, htmlJoin(" ", s.Name, s.Version)+fmt.Sprintf(" (%d entries, %s)", s.Entries, s.Date.UTC().Format(time.DateOnly)))
		}
		tone = ""
		if d.Stale {
			tone = "bad"
		}
	}
	v.Meta = append(v.Meta, metaItem{Label: "Vulnerability data", Value: v.DataLine, Tone: tone})
	pol := "redline defaults"
	if r.Policy.Path != "" {
		pol = r.Policy.Path
	}
	if r.Policy.Waivers > 0 {
		pol += fmt.Sprintf(" · %d %s", r.Policy.Waivers, htmlPlural(r.Policy.Waivers, "waiver", "waivers"))
	}
	add("Policy", pol, r.Policy.Path != "")
	add("Checked", v.Generated, false)
}

func (v *checkView) kpis() {
	r := v.R
	s := r.Size
	sizeNote := ""
	if s.BinaryBytes > 0 {
		sizeNote = "binary " + hb(s.BinaryBytes)
	}
	v.KPIs = append(v.KPIs, kpi{Label: "Compressed image", Value: hb(s.CompressedBytes), Note: sizeNote, Tone: v.tone(policy.LineSize)})
	if r.Analysis != nil {
		v.KPIs = append(v.KPIs, kpi{Label: "Efficiency", Value: fmt.Sprintf("%.1f%%", 100*r.Analysis.Summary.Efficiency), Note: hb(r.Analysis.Summary.ReclaimableBytes) + " reclaimable", Tone: v.tone(policy.LineEfficiency)})
	}
	active := len(v.Vulns) - v.Suppressed
	called := 0
	for _, f := range v.Vulns {
		if f.Suppressed == "" && f.Reach == string(vuln.Called) {
			called++
		}
	}
	vnote := fmt.Sprintf("%d called", called)
	if v.Suppressed > 0 {
		vnote += fmt.Sprintf(", %d suppressed", v.Suppressed)
	}
	v.KPIs = append(v.KPIs, kpi{Label: "Vulnerabilities", Value: fmt.Sprint(active), Note: vnote, Tone: v.tone(policy.LineVulnerabilities)})
	lintN := 0
	for _, l := range v.Lint {
		if l.Suppressed == "" {
			lintN++
		}
	}
	v.KPIs = append(v.KPIs, kpi{Label: "Lint findings", Value: fmt.Sprint(lintN), Tone: v.tone(policy.LineLint)})
	runsAs := "non-root"
	if r.Privilege.UID == 0 {
		runsAs = "root"
	}
	v.KPIs = append(v.KPIs, kpi{Label: "Runs as", Value: runsAs, Note: fmt.Sprintf("uid %d, gid %d", r.Privilege.UID, r.Privilege.GID), Tone: v.tone(policy.LineUser)})
	v.KPIs = append(v.KPIs, kpi{Label: "Red lines", Value: fmt.Sprintf("%d/%d", v.Counts.Pass+v.Counts.Waived, v.Counts.Pass+v.Counts.Waived+v.Counts.Fail+v.Counts.Warn), Note: "hold", Tone: map[bool]string{true: "bad", false: "good"}[v.Counts.Fail > 0]})
}

// tone colours a figure by the status of the line that judges it.
func (v *checkView) tone(line string) string {
	for _, l := range v.R.Lines {
		if l.Line == line {
			switch l.Status {
			case policy.Pass, policy.Waived:
				return "good"
			case policy.Fail:
				return "bad"
			case policy.Warn:
				return "warn"
			}
		}
	}
	return ""
}

func (v *checkView) size() {
	r := v.R
	s := r.Size
	layers := s.Layers
	if len(layers) == 0 && r.Analysis != nil {
		for _, l := range r.Analysis.Layers {
			layers = append(layers, check.LayerSize{Index: l.Index, Digest: l.Digest, CompressedBytes: l.CompressedBytes, UncompressedBytes: l.UncompressedBytes, CreatedBy: l.CreatedBy})
		}
	}
	var max int64
	for _, l := range layers {
		max = htmlMax(max, l.CompressedBytes, l.UncompressedBytes)
	}
	for _, l := range layers {
		v.Layers = append(v.Layers, barRow{
			Label: fmt.Sprintf("Layer %d · %s", l.Index, shortDigest(l.Digest)),
			Sub:   oneLine(l.CreatedBy),
			A:     htmlPct(l.CompressedBytes, max), AText: hb(l.CompressedBytes),
			B: htmlPct(l.UncompressedBytes, max), BText: hb(l.UncompressedBytes), HasB: true,
		})
	}
	if max > 0 {
		v.LayerScale = hb(max)
	}

	var total int64
	for _, c := range s.Components {
		total += c.Bytes
	}
	v.CompTotal = total
	var x float64
	for i, c := range s.Components {
		p := htmlPct(c.Bytes, total)
		if total > 0 {
			p = 100 * float64(c.Bytes) / float64(total)
		}
		v.Components = append(v.Components, compRow{Name: c.Name, Bytes: c.Bytes, Count: c.Files, Pct: p, X: x, Class: fmt.Sprintf("c%d", i%8)})
		x += p
	}

	switch {
	case r.Comparison != nil:
		c := r.Comparison
		sv := &slimView{Ref: cmp.Or(c.Baseline.Image.Name, c.Baseline.Image.Ref), Reduction: fmt.Sprintf("%.1f%%", c.Reduction.CompressedPercent)}
		add := func(metric string, before, after int64) {
			m := htmlMax(0, before, after)
			sv.Bars = append(sv.Bars, slimBar{Metric: metric, Before: htmlPct(before, m), After: htmlPct(after, m), BeforeTxt: hb(before), AfterTx: hb(after), Delta: htmlDelta(before, after)})
		}
		add("Compressed", c.Baseline.Summary.CompressedBytes, c.Image.Summary.CompressedBytes)
		add("Uncompressed", c.Baseline.Summary.UncompressedBytes, c.Image.Summary.UncompressedBytes)
		add("Final filesystem", c.Baseline.Summary.FinalBytes, c.Image.Summary.FinalBytes)
		if s.Baseline != nil && sv.Ref == "" {
			sv.Ref = s.Baseline.Ref
		}
		v.Slimming = sv
	case s.Baseline != nil:
		b := s.Baseline
		after := cmp.Or(b.ImageBytes, s.CompressedBytes)
		m := htmlMax(0, b.CompressedBytes, after)
		v.Slimming = &slimView{Ref: b.Ref, Reduction: fmt.Sprintf("%.1f%%", b.ReductionPct), Bars: []slimBar{{
			Metric: "Compressed", Before: htmlPct(b.CompressedBytes, m), After: htmlPct(after, m),
			BeforeTxt: hb(b.CompressedBytes), AfterTx: hb(after), Delta: htmlDelta(b.CompressedBytes, after),
		}}}
	}
}

func (v *checkView) vulns() {
	res := v.R.Vulnerabilities
	if res == nil {
		return
	}
	v.Fixes = res.Fixes
	fixFor := map[string]string{}
	for _, f := range res.Fixes {
		for _, id := range f.Clears {
			if _, ok := fixFor[id]; !ok {
				fixFor[id] = cmp.Or(f.Command, htmlJoin(" → ", f.Name, f.To))
			}
		}
	}
	findings := slices.Clone(res.Findings)
	slices.SortStableFunc(findings, func(a, b vuln.Finding) int {
		return cmp.Or(
			cmp.Compare(htmlBool(a.Suppressed != nil), htmlBool(b.Suppressed != nil)),
			-cmp.Compare(a.Reach.Rank(), b.Reach.Rank()),
			-cmp.Compare(vuln.SeverityRank(a.Severity), vuln.SeverityRank(b.Severity)),
			strings.Compare(a.ID, b.ID),
		)
	})
	counts := map[string]int{}
	for _, f := range findings {
		row := vulnRow{
			ID: f.ID, Aliases: f.Aliases, Summary: f.Summary, CVSS: f.CVSS,
			Severity: cmp.Or(f.Severity, vuln.SevUnknown), Reach: string(f.Reach),
			Component: htmlJoin("@", f.Component.Name, f.Component.Version), CompType: f.Component.Type,
			Fixed: f.Fixed, FixCommand: fixFor[f.ID], Symbols: f.Symbols, Trace: f.Trace,
		}
		if strings.HasPrefix(f.URL, "https://") || strings.HasPrefix(f.URL, "http://") {
			row.URL = f.URL
		}
		if f.Component.Path != "" {
			row.Where = f.Component.Path
			if f.Component.Layer >= 0 {
				row.Where += fmt.Sprintf(" (layer %d)", f.Component.Layer)
			}
		}
		if f.Suppressed != nil {
			row.Suppressed = htmlJoin(": ", f.Suppressed.Status, f.Suppressed.Justification)
			v.Suppressed++
		} else {
			counts[row.Reach]++
		}
		v.Vulns = append(v.Vulns, row)
	}
	for _, rc := range []vuln.Reach{vuln.Called, vuln.Imported, vuln.Required, vuln.Installed} {
		if n := counts[string(rc)]; n > 0 {
			v.VulnCounts = append(v.VulnCounts, countChip{Label: string(rc), Class: "reach-" + string(rc), N: n})
		}
	}
}

func (v *checkView) privilege() {
	p := v.R.Privilege
	user := p.User
	if user == "" {
		user = "(unset: root)"
	}
	add := func(label, value string, mono bool, tone string) {
		v.Priv = append(v.Priv, metaItem{Label: label, Value: value, Mono: mono, Tone: tone})
	}
	tone := "good"
	if p.UID == 0 {
		tone = "bad"
	}
	add("User", fmt.Sprintf("%s (uid %d, gid %d)", user, p.UID, p.GID), true, tone)
	if p.Entrypoint != "" {
		add("Entrypoint", p.Entrypoint, true, "")
	}
	if len(p.FileCaps) > 0 {
		add("File capabilities", strings.Join(p.FileCaps, ", "), true, v.tone(policy.LineCapabilities))
	} else {
		add("File capabilities", "none", false, "good")
	}
	if len(p.Shells) > 0 {
		add("Shells", strings.Join(p.Shells, ", "), true, v.tone(policy.LineShell))
	} else {
		add("Shells", "none", false, "good")
	}
	if len(p.Ports) > 0 {
		var ports []string
		for _, n := range p.Ports {
			ports = append(ports, fmt.Sprint(n))
		}
		add("Ports", strings.Join(ports, ", "), true, "")
	}
}

func (v *checkView) lint() {
	rep := v.R.Lint
	if rep == nil {
		return
	}
	findings := slices.Clone(rep.Findings)
	slices.SortStableFunc(findings, func(a, b rule.Finding) int {
		return cmp.Or(
			cmp.Compare(htmlBool(a.Suppressed != nil), htmlBool(b.Suppressed != nil)),
			-cmp.Compare(a.Severity, b.Severity),
			strings.Compare(a.Rule, b.Rule),
		)
	})
	counts := map[rule.Severity]int{}
	for _, f := range findings {
		row := lintRow{
			Rule: f.Rule, Severity: f.Severity.String(), Title: f.Title, Message: f.Message,
			Where: cmp.Or(f.Location.String(), f.Target), Object: f.Object, Fix: f.Fix, Kind: string(f.Kind),
		}
		if f.Suppressed != nil {
			row.Suppressed = f.Suppressed.Reason
			if f.Suppressed.Line > 0 {
				row.Suppressed += fmt.Sprintf(" (directive on line %d)", f.Suppressed.Line)
			}
		} else {
			counts[f.Severity]++
		}
		v.Lint = append(v.Lint, row)
	}
	for s := rule.Critical; s >= rule.Info; s-- {
		if counts[s] > 0 {
			v.LintCount = append(v.LintCount, countChip{Label: s.String(), Class: "sev-" + s.String(), N: counts[s]})
		}
	}
	for _, n := range rep.Notes {
		v.LintNotes = append(v.LintNotes, htmlJoin(": ", n.Target, n.Message))
	}
}

func (v *checkView) sbom() {
	s := v.R.SBOM
	var max int
	for _, n := range s.ByType {
		max = htmlMax(max, n)
	}
	for name, n := range s.ByType {
		v.SBOMTypes = append(v.SBOMTypes, compRow{Name: name, Count: n, Pct: htmlPct(int64(n), int64(max))})
	}
	slices.SortFunc(v.SBOMTypes, func(a, b compRow) int {
		return cmp.Or(-cmp.Compare(a.Count, b.Count), strings.Compare(a.Name, b.Name))
	})
}

func (v *checkView) timings() {
	var max, total float64
	for _, t := range v.R.Timings {
		max = htmlMax(max, t.Seconds)
		total += t.Seconds
	}
	for _, t := range v.R.Timings {
		p := 0.0
		if max > 0 {
			p = 100 * t.Seconds / max
		}
		v.Timings = append(v.Timings, barRow{Label: t.Step, A: p, AText: htmlSeconds(t.Seconds)})
	}
	if len(v.R.Timings) > 0 {
		v.TotalTime = htmlSeconds(total)
	}
}

func htmlSeconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0f ms", s*1000)
	}
	return fmt.Sprintf("%.2f s", s)
}

// barPct is part of whole in percent, at least a sliver when part is not
// zero so that a small layer stays visible.
func htmlPct(part, whole int64) float64 {
	if whole <= 0 || part <= 0 {
		return 0
	}
	return max(100*float64(part)/float64(whole), 0.6)
}

func htmlDelta(before, after int64) string {
	if before <= 0 {
		return ""
	}
	d := 100 * float64(before-after) / float64(before)
	if d >= 0 {
		return fmt.Sprintf("−%.1f%%", d)
	}
	return fmt.Sprintf("+%.1f%%", -d)
}

func htmlMax[T cmp.Ordered](first T, rest ...T) T {
	m := first
	for _, x := range rest {
		m = max(m, x)
	}
	return m
}

func htmlBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

func htmlPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func htmlJoin(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
