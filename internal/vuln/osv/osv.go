// Package osv holds the Open Source Vulnerability format
// (https://ossf.github.io/osv-schema/), the one vulnerability data format
// redline reads, with the Go vulnerability database's extensions
// (ecosystem_specific.imports: packages, platforms and symbols).
package osv

import (
	"encoding/json"
	"fmt"
	"time"
)

// Ecosystems redline matches.
const (
	EcosystemGo     = "Go"
	EcosystemDebian = "Debian" // "Debian:12" in entries of a release
	EcosystemAlpine = "Alpine" // "Alpine:v3.20"
)

// Range types.
const (
	RangeSemver    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
	RangeGit       = "GIT"
)

// Entry is one OSV record.
type Entry struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified"`
	Published        time.Time       `json:"published,omitzero"`
	Withdrawn        time.Time       `json:"withdrawn,omitzero"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Upstream         []string        `json:"upstream,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected"`
	References       []Reference     `json:"references,omitempty"`
	Credits          []Credit        `json:"credits,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a CVSS vector or similar score.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package.
type Affected struct {
	Package           Package            `json:"package"`
	Severity          []Severity         `json:"severity,omitempty"`
	Ranges            []Range            `json:"ranges,omitempty"`
	Versions          []string           `json:"versions,omitempty"`
	EcosystemSpecific *EcosystemSpecific `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage    `json:"database_specific,omitempty"`
}

// Package identifies a package in an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// Range is a set of events ordering introduced/fixed versions.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one point of a range. Exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// EcosystemSpecific carries the Go database's package detail.
type EcosystemSpecific struct {
	Imports []Import `json:"imports,omitempty"`
}

// Import is a vulnerable package of a Go module, with the symbols (Func or
// Type.Method) that hold the vulnerable code, when known.
type Import struct {
	Path    string   `json:"path"`
	GOOS    []string `json:"goos,omitempty"`
	GOARCH  []string `json:"goarch,omitempty"`
	Symbols []string `json:"symbols,omitempty"`
}

// Reference is a link.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Credit names who found or fixed it.
type Credit struct {
	Name string `json:"name"`
}

// Validate checks what matching relies on.
func (e *Entry) Validate() error {
	if e.ID == "" {
		return fmt.Errorf("no id")
	}
	for i, a := range e.Affected {
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			return fmt.Errorf("%s: affected[%d]: no package ecosystem or name", e.ID, i)
		}
		for j, r := range a.Ranges {
			if r.Type != RangeSemver && r.Type != RangeEcosystem && r.Type != RangeGit {
				return fmt.Errorf("%s: affected[%d].ranges[%d]: unknown type %q", e.ID, i, j, r.Type)
			}
			if len(r.Events) == 0 {
				return fmt.Errorf("%s: affected[%d].ranges[%d]: no events", e.ID, i, j)
			}
		}
	}
	return nil
}
