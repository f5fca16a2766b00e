package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strings"

	"github.com/redline-go/redline/internal/lint/rule"
)

// SARIFSchema is the SARIF 2.1.0 schema URI written into logs.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	HelpURI              string         `json:"helpUri"`
	Help                 sarifHelp      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// level maps severities to SARIF levels.
func level(s rule.Severity) string {
	switch {
	case s >= rule.High:
		return "error"
	case s == rule.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub's 0-10 score for a severity.
func securitySeverity(s rule.Severity) string {
	return [...]string{"0.0", "3.0", "5.5", "8.0", "9.5"}[s]
}

// SARIF writes the report as SARIF 2.1.0 for code scanning: a rule per
// catalogue entry found, a result per finding located at its file and
// line (image findings at the path inside the image, line 1, with the
// image and layer as properties), stable fingerprints, and inline
// suppressions as SARIF suppressions.
func SARIF(w io.Writer, rep *rule.Report) error {
	ids := map[string]bool{}
	for _, f := range rep.Findings {
		ids[f.Rule] = true
	}
	var rules []sarifRule
	index := map[string]int{}
	for _, r := range Catalogue() {
		if !ids[r.ID] {
			continue
		}
		index[r.ID] = len(rules)
		rules = append(rules, sarifRule{
			ID: r.ID, Name: strings.ReplaceAll(r.ID, "-", ""),
			ShortDescription: sarifText{r.Title}, FullDescription: sarifText{firstParagraph(r.Help)},
			HelpURI:              "https://github.com/redline-go/redline/blob/main/docs/rules.md#" + strings.ToLower(r.ID),
			Help:                 sarifHelp{Text: r.Help, Markdown: r.Help},
			DefaultConfiguration: sarifConfig{Level: level(r.Severity)},
			Properties:           map[string]any{"tags": append([]string{"security"}, kinds(r)...), "security-severity": securitySeverity(r.Severity)},
		})
	}
	results := []sarifResult{}
	for _, f := range rep.Findings {
		uri, line := f.File, f.Line
		props := map[string]any{"severity": f.Severity.String(), "target": f.Target}
		if uri == "" {
			uri = strings.TrimPrefix(f.Path, "/")
			if f.Layer != nil {
				props["layer"] = *f.Layer
			}
			if uri == "" {
				uri = sanitizeURI(f.Target)
			}
		}
		if line <= 0 {
			line = 1
		}
		if f.Object != "" {
			props["object"] = f.Object
		}
		msg := f.Message
		if f.Fix != "" {
			msg += ". Fix: " + f.Fix
		}
		sum := sha256.Sum256([]byte(f.Rule + "\x00" + f.Target + "\x00" + uri + "\x00" + f.Object + "\x00" + f.Message))
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: level(f.Severity), Message: sarifText{msg},
			Locations:           []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri}, Region: sarifRegion{StartLine: line, StartColumn: f.Column}}}},
			PartialFingerprints: map[string]string{"redlineFinding/v1": hex.EncodeToString(sum[:16])},
			Properties:          props,
		}
		if f.Suppressed != nil {
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: f.Suppressed.Reason}}
		}
		results = append(results, res)
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	for i, r := range rules {
		index[r.ID] = i
	}
	for i := range results {
		results[i].RuleIndex = index[results[i].RuleID]
	}
	if rules == nil {
		rules = []sarifRule{}
	}
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{{
		Tool:    sarifTool{Driver: sarifDriver{Name: rep.Tool.Name, Version: rep.Tool.Version, InformationURI: "https://github.com/redline-go/redline", Rules: rules}},
		Results: results,
	}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func kinds(r *rule.Rule) []string {
	var out []string
	for _, k := range r.Targets {
		out = append(out, string(k))
	}
	return out
}

func firstParagraph(s string) string {
	p, _, _ := strings.Cut(s, "\n\n")
	return p
}

// sanitizeURI turns an image reference into a relative URI.
func sanitizeURI(ref string) string {
	r := strings.NewReplacer(":", "/", "@", "/", " ", "_")
	return strings.TrimPrefix(r.Replace(ref), "/")
}
