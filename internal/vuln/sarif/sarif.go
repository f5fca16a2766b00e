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

	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/match"
)

// Schema is the SARIF 2.1.0 schema URI written into logs.
const Schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// Log is the top of a SARIF file.
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is one tool's run.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
}

// Tool describes redline and its rules.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is the analysis tool.
type Driver struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri"`
	Rules          []Rule `json:"rules"`
}

// Rule is one advisory.
type Rule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name,omitempty"`
	ShortDescription Message        `json:"shortDescription"`
	FullDescription  Message        `json:"fullDescription"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Help             Help           `json:"help"`
	Properties       RuleProperties `json:"properties"`
}

// Message is SARIF text.
type Message struct {
	Text string `json:"text"`
}

// Help is a rule's help in text and Markdown.
type Help struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

// RuleProperties carry GitHub's tags and security-severity.
type RuleProperties struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
}

// Result is one finding.
type Result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             Message           `json:"message"`
	Locations           []Location        `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

// Location points at the artifact that holds the vulnerable component.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file and a region.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           Region           `json:"region"`
}

// ArtifactLocation is a URI.
type ArtifactLocation struct {
	URI string `json:"uri"`
}

// Region is a line (SARIF wants one; components have no lines, so 1).
type Region struct {
	StartLine int `json:"startLine"`
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
		Properties: RuleProperties{Tags: []string{"security", "vulnerability", f.Component.Type}},
	}
	if f.CVSS != "" {
		if score, ok := match.CVSS3Score(f.CVSS); ok {
			r.Properties.SecuritySeverity = fmt.Sprintf("%.1f", score)
		}
	} else if s := map[string]string{vuln.SevCritical: "9.5", vuln.SevHigh: "8.0", vuln.SevMedium: "5.5", vuln.SevLow: "2.0"}[f.Severity]; s != "" {
		r.Properties.SecuritySeverity = s
	}
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
