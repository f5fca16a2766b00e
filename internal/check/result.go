package check

import (
	_ "embed"
	"time"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
)

// SchemaVersion identifies the JSON form of [Result] (report.json,
// documented in docs/check.md; schema in schema/check.schema.json).
const SchemaVersion = "redline.dev/check/v1"

// Result is everything one check found: the verdict, every red line, the
// actions that would clear the crossed ones, and the results of each step
// in full.
type Result struct {
	SchemaVersion string    `json:"schemaVersion"`
	Tool          rule.Tool `json:"tool"`
	// Target is the target as given; Kind "package" (built here) or
	// "image".
	Target  string    `json:"target"`
	Kind    string    `json:"kind"`
	Image   ImageInfo `json:"image"`
	Created time.Time `json:"created"`
	// Verdict is pass, fail or incomplete.
	Verdict string `json:"verdict"`
	// Lines are the red lines in report order.
	Lines []policy.LineResult `json:"lines"`
	// Incomplete says why the result cannot be trusted (exit 2).
	Incomplete []string `json:"incomplete,omitempty"`
	// Actions clear crossed lines, most effective first.
	Actions []Action   `json:"actions"`
	Policy  PolicyInfo `json:"policy"`

	// Size is the image's size by layer and by component.
	Size Size `json:"size"`
	// Privilege is what the image grants.
	Privilege Privilege `json:"privilege"`
	// SBOM summarises the inventory (the full SBOM is written as
	// CycloneDX and SPDX next to report.json).
	SBOM SBOMSummary `json:"sbom"`

	// The steps' own results, in their documented forms.
	Build           *build.Result      `json:"build,omitempty"`
	Analysis        *layers.Analysis   `json:"analysis"`
	Comparison      *layers.Comparison `json:"comparison,omitempty"`
	Vulnerabilities *vuln.Result       `json:"vulnerabilities"`
	Lint            *rule.Report       `json:"lint"`

	// Fix is set by --fix: what was changed and the verdict before.
	Fix *FixReport `json:"fix,omitempty"`
	// Timings are the wall time of each step, in seconds.
	Timings  []Timing `json:"timings"`
	Warnings []string `json:"warnings,omitempty"`

	// Inventory is the SBOM the pass made (not in JSON: written as files).
	Inventory *sbom.SBOM `json:"-"`

	tree         *image.Tree
	imageLint    *rule.Report
	facts        *imagecheck.Facts
	reproducible *bool
	reproNote    string
	crossingIDs  map[string]bool
}

// ImageInfo names the image checked.
type ImageInfo struct {
	Ref      string `json:"ref"`
	Name     string `json:"name,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Platform string `json:"platform,omitempty"`
	// Written lists where a built image was written.
	Written []string `json:"written,omitempty"`
}

// PolicyInfo says which policy was applied.
type PolicyInfo struct {
	// Path is the policy file; empty when the defaults applied.
	Path      string `json:"path,omitempty"`
	Toolchain string `json:"toolchain,omitempty"`
	Waivers   int    `json:"waivers"`
}

// Action is one thing to do to clear crossed lines.
type Action struct {
	// Line is the red line it clears; Title says what to do, for people.
	Line  string `json:"line"`
	Title string `json:"title"`
	// Detail explains; Command is what --fix (or a person) runs.
	Detail  string `json:"detail,omitempty"`
	Command string `json:"command,omitempty"`
	// Clears are the findings it clears (advisory or rule IDs).
	Clears []string `json:"clears,omitempty"`
	// Fixable says --fix can apply it.
	Fixable bool `json:"fixable"`
}

// Size is the image's size.
type Size struct {
	CompressedBytes   int64 `json:"compressedBytes"`
	UncompressedBytes int64 `json:"uncompressedBytes"`
	// BinaryBytes is the entrypoint binary; BinaryPath where it is.
	BinaryBytes int64        `json:"binaryBytes"`
	BinaryPath  string       `json:"binaryPath,omitempty"`
	Layers      []LayerSize  `json:"layers"`
	Components  []Component  `json:"components"`
	Baseline    *BaselineBar `json:"baseline,omitempty"`
}

// LayerSize is one layer.
type LayerSize struct {
	Index             int    `json:"index"`
	Digest            string `json:"digest"`
	CompressedBytes   int64  `json:"compressedBytes"`
	UncompressedBytes int64  `json:"uncompressedBytes"`
	CreatedBy         string `json:"createdBy,omitempty"`
}

// Component is a share of the final filesystem: "Go binaries",
// "CA certificates", "OS packages", "time zone data", "other".
type Component struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
	Files int    `json:"files"`
}

// BaselineBar is the before/after of slimming, in compressed bytes (what
// a pull transfers).
type BaselineBar struct {
	// Ref is the baseline as given; CompressedBytes its size.
	Ref             string `json:"ref"`
	CompressedBytes int64  `json:"compressedBytes"`
	// ImageBytes is the checked image's compressed size.
	ImageBytes int64 `json:"imageBytes"`
	// ReductionPct is how much smaller the image is, in percent.
	ReductionPct float64 `json:"reductionPercent"`
}

// Privilege is what the image grants.
type Privilege struct {
	User       string   `json:"user"`
	UID        int      `json:"uid"`
	GID        int      `json:"gid"`
	Entrypoint string   `json:"entrypoint,omitempty"`
	FileCaps   []string `json:"fileCapabilities"`
	Shells     []string `json:"shells"`
	Ports      []int    `json:"ports,omitempty"`
	// Checks are the privilege lines and lint rules for people: name,
	// status, detail.
	Checks []PrivilegeCheck `json:"checks"`
}

// PrivilegeCheck is one privilege check shown in the report.
type PrivilegeCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// SBOMSummary summarises the inventory.
type SBOMSummary struct {
	Components int            `json:"components"`
	ByType     map[string]int `json:"byType"`
	Distro     string         `json:"distro,omitempty"`
	GoBinaries []GoBinary     `json:"goBinaries"`
}

// GoBinary is one Go binary of the image.
type GoBinary struct {
	Path      string `json:"path"`
	GoVersion string `json:"goVersion"`
	Main      string `json:"main"`
	Modules   int    `json:"modules"`
	Stripped  bool   `json:"stripped"`
	Static    bool   `json:"static"`
}

// FixReport is what --fix did.
type FixReport struct {
	// Before is the verdict and crossed lines before the fixes.
	Before        string   `json:"before"`
	BeforeCrossed []string `json:"beforeCrossed"`
	Applied       []Fixed  `json:"applied"`
	// Skipped are actions --fix could not apply safely, with why.
	Skipped []Fixed `json:"skipped,omitempty"`
}

// Fixed is one applied (or skipped) action.
type Fixed struct {
	Title   string   `json:"title"`
	Command string   `json:"command,omitempty"`
	Files   []string `json:"files,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Timing is one step's wall time.
type Timing struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// Crossed returns the names of the failed lines.
func (r *Result) Crossed() []string {
	var out []string
	for _, l := range r.Lines {
		if l.Status == policy.Fail {
			out = append(out, l.Line)
		}
	}
	return out
}

// Schema is the JSON schema of report.json.
//
//go:embed schema.json
var Schema []byte
