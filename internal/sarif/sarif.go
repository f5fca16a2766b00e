// Package sarif is the part of the SARIF 2.1.0 log format redline writes,
// shared by the lint findings (package lint) and the vulnerability findings
// (package vuln/sarif), so both logs have one shape and `check` can put both
// runs in one file. It holds the fields GitHub code scanning reads.
package sarif

// Schema is the SARIF 2.1.0 schema URI written into logs.
const Schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// Version is the SARIF version written into logs.
const Version = "2.1.0"

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

// Tool describes the producer and its rules.
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

// Rule is one rule (a lint rule, an advisory).
type Rule struct {
	ID                   string  `json:"id"`
	Name                 string  `json:"name,omitempty"`
	ShortDescription     Message `json:"shortDescription"`
	FullDescription      Message `json:"fullDescription"`
	HelpURI              string  `json:"helpUri,omitempty"`
	Help                 Help    `json:"help"`
	DefaultConfiguration *Config `json:"defaultConfiguration,omitempty"`
	// Properties carry GitHub's tags and security-severity.
	Properties any `json:"properties,omitempty"`
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

// Config is a rule's default configuration.
type Config struct {
	Level string `json:"level"`
}

// Result is one finding.
type Result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             Message           `json:"message"`
	Locations           []Location        `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []Suppression     `json:"suppressions,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

// Location points at the artifact of a finding.
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

// Region is a line and, when known, a column (SARIF wants a line; a
// finding without one is reported at line 1).
type Region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// Suppression records why a result does not apply.
type Suppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}
