package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strings"

	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/sarif"
)

// SARIFSchema is the SARIF 2.1.0 schema URI written into logs.
const SARIFSchema = sarif.Schema

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
	var rules []sarif.Rule
	index := map[string]int{}
	for _, r := range Catalogue() {
		if !ids[r.ID] {
			continue
		}
		index[r.ID] = len(rules)
		rules = append(rules, sarif.Rule{
			ID: r.ID, Name: strings.ReplaceAll(r.ID, "-", ""),
			ShortDescription: sarif.Message{Text: r.Title}, FullDescription: sarif.Message{Text: firstParagraph(r.Help)},
			HelpURI:              "https://github.com/redline-go/redline/blob/main/docs/rules.md#" + strings.ToLower(r.ID),
			Help:                 sarif.Help{Text: r.Help, Markdown: r.Help},
			DefaultConfiguration: &sarif.Config{Level: level(r.Severity)},
			Properties:           map[string]any{"tags": append([]string{"security"}, kinds(r)...), "security-severity": securitySeverity(r.Severity)},
		})
	}
	results := []sarif.Result{}
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
		res := sarif.Result{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: level(f.Severity), Message: sarif.Message{Text: msg},
			Locations:           []sarif.Location{{PhysicalLocation: sarif.PhysicalLocation{ArtifactLocation: sarif.ArtifactLocation{URI: uri}, Region: sarif.Region{StartLine: line, StartColumn: f.Column}}}},
			PartialFingerprints: map[string]string{"redlineFinding/v1": hex.EncodeToString(sum[:16])},
			Properties:          props,
		}
		if f.Suppressed != nil {
			res.Suppressions = []sarif.Suppression{{Kind: "inSource", Justification: f.Suppressed.Reason}}
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
		rules = []sarif.Rule{}
	}
	log := sarif.Log{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarif.Run{{
		Tool:    sarif.Tool{Driver: sarif.Driver{Name: rep.Tool.Name, Version: rep.Tool.Version, InformationURI: "https://github.com/redline-go/redline", Rules: rules}},
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
