// Package vuln is redline's vulnerability result model: findings with
// reachability, fix advice, and the data they were made from. Matching
// (package match), the database (package db), reachability (packages gosym
// and source) and the renderers work on these types.
package vuln

import (
	"time"
)

// SchemaVersion identifies the JSON form of a [Result].
const SchemaVersion = "redline.dev/scan/v1"

// Reach says how close a finding is to running code. Levels order from the
// most to the least certain to matter.
type Reach string

// Reachability levels. OS packages are Installed, which gates like
// Required.
const (
	Called    Reach = "called"    // a vulnerable symbol is reachable (source) or present (binary)
	Imported  Reach = "imported"  // a vulnerable package is linked in, none of its vulnerable symbols
	Required  Reach = "required"  // only the module is in the build list
	Installed Reach = "installed" // an OS package is installed
)

// Rank orders levels: Called 3, Imported 2, Required and Installed 1.
func (r Reach) Rank() int {
	switch r {
	case Called:
		return 3
	case Imported:
		return 2
	case Required, Installed:
		return 1
	}
	return 0
}

// Severity levels, from the data's CVSS scores or its own words; Unknown
// when the data has none (all Go database entries).
const (
	SevCritical = "critical"
	SevHigh     = "high"
	SevMedium   = "medium"
	SevLow      = "low"
	SevUnknown  = "unknown"
)

// SeverityRank orders severities; unknown ranks 0.
func SeverityRank(s string) int {
	switch s {
	case SevCritical:
		return 4
	case SevHigh:
		return 3
	case SevMedium:
		return 2
	case SevLow:
		return 1
	}
	return 0
}

// Result is what a scan found in one target.
type Result struct {
	SchemaVersion string `json:"schemaVersion"`
	// Target names what was scanned (an image ref, a binary, a module).
	Target   string    `json:"target"`
	Digest   string    `json:"digest,omitempty"`
	Data     Data      `json:"data"`
	Findings []Finding `json:"findings"`
	Fixes    []Fix     `json:"fixes"`
	// Warnings are problems that did not stop the scan.
	Warnings []string `json:"warnings,omitempty"`
	// Components counts what was matched.
	Components int `json:"components"`
}

// Data describes the vulnerability data used.
type Data struct {
	Sources []DataSource `json:"sources"`
	// Date is the oldest source's date; AgeDays counts from it.
	Date    time.Time `json:"date"`
	AgeDays int       `json:"ageDays"`
	// Stale is set when the data is older than the allowed age (7 days
	// unless the policy says otherwise).
	Stale bool `json:"stale"`
}

// DataSource is one source of vulnerability data.
type DataSource struct {
	Name    string    `json:"name"`
	Version string    `json:"version,omitempty"`
	Date    time.Time `json:"date"`
	Entries int       `json:"entries"`
}

// Finding is one vulnerability in one component.
type Finding struct {
	// ID is the advisory (GO-2026-1234, DSA-..., CVE-...); Aliases its
	// other names, merged from entries that describe the same flaw.
	ID      string   `json:"id"`
	Aliases []string `json:"aliases,omitempty"`
	Summary string   `json:"summary,omitempty"`
	// Severity is critical/high/medium/low, or unknown when the data has
	// none; CVSS is the vector it came from.
	Severity string `json:"severity"`
	CVSS     string `json:"cvss,omitempty"`
	// Component is what is vulnerable.
	Component ComponentRef `json:"component"`
	// Packages are the vulnerable Go packages (import paths) involved, or
	// the source package of an OS package.
	Packages []string `json:"packages,omitempty"`
	// Symbols are the vulnerable symbols found (Called), as pkg.Symbol.
	Symbols []string `json:"symbols,omitempty"`
	Reach   Reach    `json:"reach"`
	// Trace is one example call path from the program to a vulnerable
	// symbol (source scans), outermost first.
	Trace []Frame `json:"trace,omitempty"`
	// Fixed is the smallest version of the component that clears this
	// finding; empty when no fix exists.
	Fixed string `json:"fixed,omitempty"`
	// Suppressed is set when a VEX statement says the finding does not
	// apply; suppressed findings never gate.
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// URL points to the advisory.
	URL string `json:"url,omitempty"`
}

// ComponentRef names the vulnerable component and where it is.
type ComponentRef struct {
	// ID is the SBOM component ID.
	ID      string `json:"id,omitempty"`
	Type    string `json:"type"` // go-module, go-stdlib, deb, apk
	Name    string `json:"name"`
	Version string `json:"version"`
	PURL    string `json:"purl,omitempty"`
	// Path is the binary or package database; Layer the layer that added
	// it (-1 outside images).
	Path  string `json:"path,omitempty"`
	Layer int    `json:"layer"`
}

// Frame is one step of a call path.
type Frame struct {
	Function string `json:"function"` // pkg.Func or pkg.(*T).M
	Position string `json:"position,omitempty"`
}

// Suppression records why a finding does not apply.
type Suppression struct {
	Status        string `json:"status"` // not_affected, fixed
	Justification string `json:"justification,omitempty"`
	Statement     string `json:"statement,omitempty"` // where it came from
}

// Fix is the smallest upgrade of one component that clears its findings.
type Fix struct {
	// Kind is "module", "toolchain" or "package" (OS).
	Kind string `json:"kind"`
	Name string `json:"name"`
	From string `json:"from"`
	// To clears every finding of the component; Newest is the newest
	// release known (toolchain only).
	To     string   `json:"to,omitempty"`
	Newest string   `json:"newest,omitempty"`
	Clears []string `json:"clears"`
	// Command is what to run ("go get golang.org/x/net@v0.33.0",
	// "go get toolchain@go1.26.10").
	Command string `json:"command,omitempty"`
	// Unfixable lists findings no released version clears.
	Unfixable []string `json:"unfixable,omitempty"`
	// GODEBUGTarget is the toolchain GODEBUG lists the changes for (To, or
	// the release asked for with --go); GODEBUG the settings whose
	// effective value flips on the way there (toolchain fixes only).
	GODEBUGTarget string          `json:"godebugTarget,omitempty"`
	GODEBUG       []GODEBUGChange `json:"godebug,omitempty"`
}

// GODEBUGChange is one GODEBUG setting that behaves differently after an
// upgrade.
type GODEBUGChange struct {
	Name  string `json:"name"`
	Class string `json:"class"`
	From  string `json:"from"`
	To    string `json:"to"`
	Why   string `json:"why"`
	// Link says whether the program links the affected packages: linked,
	// not-linked, unknown, toolchain.
	Link        string `json:"link"`
	BreaksBuild bool   `json:"breaksBuild,omitempty"`
}
