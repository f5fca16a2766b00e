// Package sarif writes scan findings as SARIF 2.1.0 with the fields GitHub
// code scanning requires: a rule per advisory (with help text and a
// security-severity when the data has a score), a result per finding with
// a physical location, and stable partial fingerprints so alerts survive
// re-runs.
package sarif

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	sariflog "github.com/redline-go/redline/internal/sarif"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/match"
)

// Schema is the SARIF 2.1.0 schema URI written into logs.
const Schema = sariflog.Schema

// The log model is package internal/sarif's, shared with lint.
type (
	Log              = sariflog.Log
	Run              = sariflog.Run
	Tool             = sariflog.Tool
	Driver           = sariflog.Driver
	Rule             = sariflog.Rule
	Message          = sariflog.Message
	Help             = sariflog.Help
	Result           = sariflog.Result
	Location         = sariflog.Location
	PhysicalLocation = sariflog.PhysicalLocation
	ArtifactLocation = sariflog.ArtifactLocation
	Region           = sariflog.Region
)

// RuleProperties carry GitHub's tags and security-severity.
type RuleProperties struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
}

// Options tune [Write].
type Options struct {
	ToolVersion string
	// Location returns the file a finding is reported against (a go.mod,
	// a Dockerfile); default: the component's path, or the target.
	Location func(f vuln.Finding) string
}

// Write writes results of one or more scans as one SARIF log.
func Write(w io.Writer, results []*vuln.Result, o Options) error {
	run := Run{Tool: Tool{Driver: Driver{Name: "redline", Version: o.ToolVersion, InformationURI: "https://github.com/redline-go/redline", Rules: []Rule{}}}, Results: []Result{}}
	ruleIndex := map[string]int{}
	var all []struct {
		f      vuln.Finding
		target string
	}
	for _, r := range results {
		for _, f := range r.Findings {
			all = append(all, struct {
				f      vuln.Finding
				target string
			}{f, r.Target})
		}
	}
	// Rules sorted by ID so the log is stable.
	sort.SliceStable(all, func(i, j int) bool { return all[i].f.ID < all[j].f.ID })
	for _, x := range all {
		f := x.f
		if _, ok := ruleIndex[f.ID]; ok {
			continue
		}
		ruleIndex[f.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule(f))
	}
	for _, x := range all {
		f, target := x.f, x.target
		loc := f.Component.Path
		if o.Location != nil {
			loc = o.Location(f)
		}
		if loc == "" {
			loc = target
		}
		loc = strings.TrimPrefix(loc, "/")
		level := "warning"
		switch {
		case f.Suppressed != nil:
			level = "note"
		case f.Reach == vuln.Called || f.Reach == vuln.Installed && match.SeverityAtLeast(f.Severity, vuln.SevHigh):
			level = "error"
		case f.Reach == vuln.Required:
			level = "note"
		}
		res := Result{
			RuleID: f.ID, RuleIndex: ruleIndex[f.ID], Level: level,
			Message:             Message{Text: message(f)},
			Locations:           []Location{{PhysicalLocation: PhysicalLocation{ArtifactLocation: ArtifactLocation{URI: loc}, Region: Region{StartLine: 1}}}},
			PartialFingerprints: map[string]string{"primaryLocationLineHash": fingerprint(f, target)},
			Properties:          map[string]any{"reach": string(f.Reach), "component": f.Component.Name + "@" + f.Component.Version},
		}
		if f.Suppressed != nil {
			res.Properties["suppressed"] = f.Suppressed.Status + ": " + f.Suppressed.Justification
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(Log{Schema: Schema, Version: "2.1.0", Runs: []Run{run}})
}

func rule(f vuln.Finding) Rule {
	short := f.Summary
	if short == "" {
		short = f.ID
	}
	full := short
	if len(f.Aliases) > 0 {
		full += " (" + strings.Join(f.Aliases, ", ") + ")"
	}
	r := Rule{
		ID: f.ID, Name: strings.ReplaceAll(f.ID, "-", ""),
		ShortDescription: Message{Text: short}, FullDescription: Message{Text: full},
		HelpURI: f.URL,
		Help: Help{
			Text:     fmt.Sprintf("%s: %s. More: %s", f.ID, short, f.URL),
			Markdown: fmt.Sprintf("**%s**: %s\n\nAliases: %s\n\n[Advisory](%s)", f.ID, short, strings.Join(f.Aliases, ", "), f.URL),
		},
	}
	props := RuleProperties{Tags: []string{"security", "vulnerability", f.Component.Type}}
	if f.CVSS != "" {
		if score, ok := match.CVSS3Score(f.CVSS); ok {
			props.SecuritySeverity = fmt.Sprintf("%.1f", score)
		}
	} else if s := map[string]string{vuln.SevCritical: "9.5", vuln.SevHigh: "8.0", vuln.SevMedium: "5.5", vuln.SevLow: "2.0"}[f.Severity]; s != "" {
		props.SecuritySeverity = s
	}
	r.Properties = props
	return r
}

func message(f vuln.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is affected by %s", f.Component.Name, f.Component.Version, f.ID)
	if f.Summary != "" {
		fmt.Fprintf(&b, " (%s)", f.Summary)
	}
	fmt.Fprintf(&b, "; reachability: %s", f.Reach)
	if len(f.Symbols) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(f.Symbols, ", "))
	}
	if f.Fixed != "" {
		fmt.Fprintf(&b, "; fixed in %s", f.Fixed)
	} else {
		b.WriteString("; no fixed version")
	}
	if f.Suppressed != nil {
		fmt.Fprintf(&b, "; suppressed by VEX: %s", f.Suppressed.Justification)
	}
	return b.String()
}

// fingerprint identifies a finding across runs: the advisory, the
// component and where it is, not versions or line numbers.
func fingerprint(f vuln.Finding, target string) string {
	h := sha256.Sum256([]byte(f.ID + "\x00" + f.Component.Type + "\x00" + f.Component.Name + "\x00" + f.Component.Path + "\x00" + target))
	return hex.EncodeToString(h[:16])
}
