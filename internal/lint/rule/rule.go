// Package rule is the model every lint rule shares: the catalogue entry
// ([Rule]), what a rule found ([Finding]), what could not be parsed
// ([Warning]), the report of one run ([Report]) and inline suppressions
// ([Directive]).
//
// Rules live in one package per target kind (image, Dockerfile,
// Kubernetes, Go module) and are listed in one registry file of package
// lint; nothing registers itself.
package rule

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Severity orders findings; gates compare against it.
type Severity int

// Severities, from the least to the most urgent.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

// String returns the lowercase name.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity accepts a severity name in any case.
func ParseSeverity(name string) (Severity, error) {
	if i := slices.Index(severityNames, strings.ToLower(strings.TrimSpace(name))); i >= 0 {
		return Severity(i), nil
	}
	return 0, fmt.Errorf("unknown severity %q (one of %s)", name, strings.Join(severityNames, ", "))
}

// Kind is a kind of target a rule applies to.
type Kind string

// Target kinds.
const (
	Image      Kind = "image"      // an image's config and files
	Binary     Kind = "binary"     // a single executable
	Dockerfile Kind = "dockerfile" // a Dockerfile or Containerfile
	Kubernetes Kind = "kubernetes" // Kubernetes manifests (YAML or JSON, Helm output)
	GoModule   Kind = "go-module"  // a Go module directory and its go env
	CI         Kind = "ci"         // CI files (GitHub Actions, GitLab CI) for their Go settings
	// Directory is a target, not a rule's kind: a source tree whose
	// Dockerfiles, manifests, CI files and Go modules are found and
	// checked.
	Directory Kind = "directory"
)

// Rule is one entry of the catalogue.
type Rule struct {
	// ID is stable across releases: RL-IMG-001, RL-DF-004, RL-K8S-006,
	// RL-X-005, RL-GO-002.
	ID       string
	Severity Severity
	// Title is one line, saying what is wrong.
	Title string
	// Help explains why it matters and how to fix it (plain text,
	// paragraphs separated by blank lines; `code` in backquotes).
	Help string
	// Targets are the kinds of target the rule looks at.
	Targets []Kind
	// Fixable is set when `redline harden` rewrites the cause away.
	Fixable bool
	// See lists related rules of other tools and documents.
	See []string
}

var idPattern = regexp.MustCompile(`^RL-(IMG|DF|K8S|X|GO)-[0-9]{3}$`)

// ValidID reports whether id has the shape of a rule ID.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Location says where a finding is: a line of a file, or a path of an
// image and the layer that added it.
type Location struct {
	// File is the file as named on the command line (or found under a
	// directory argument).
	File string `json:"file,omitempty"`
	// Line and Column are 1-based; 0 when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Path is a path inside an image; Layer the index of the layer that
	// added it (nil outside images).
	Path  string `json:"path,omitempty"`
	Layer *int   `json:"layer,omitempty"`
}

// At returns a location in a file.
func At(file string, line, col int) Location { return Location{File: file, Line: line, Column: col} }

// InImage returns a location in an image.
func InImage(path string, layer int) Location { return Location{Path: path, Layer: &layer} }

// String renders file:line, path (layer N), or the empty string.
func (l Location) String() string {
	switch {
	case l.File != "" && l.Line > 0:
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	case l.File != "":
		return l.File
	case l.Path != "" && l.Layer != nil:
		return fmt.Sprintf("%s (layer %d)", l.Path, *l.Layer)
	}
	return l.Path
}

// Finding is one thing a rule found.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Message says what was found here, with the values involved.
	Message string `json:"message"`
	// Fix is the specific change that clears the finding.
	Fix string `json:"fix,omitempty"`
	// Target is the command-line target the finding came from; Kind what
	// kind of target it is.
	Target string `json:"target"`
	Kind   Kind   `json:"kind"`
	// Object names the thing inside the target: "Deployment/web container
	// app", "stage build", "go.mod require golang.org/x/net".
	Object string `json:"object,omitempty"`
	Location
	// Suppressed is set when an inline directive waived the finding; a
	// suppressed finding never gates.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Suppression records the directive that waived a finding.
type Suppression struct {
	Reason string `json:"reason"`
	// Line is the directive's line in the same file.
	Line int `json:"line"`
}

// New returns a finding of rule r at loc.
func (r *Rule) New(loc Location, object, msg string) Finding {
	return Finding{Rule: r.ID, Severity: r.Severity, Title: r.Title, Message: msg, Object: object, Location: loc}
}

// Warning is content that could not be parsed or checked inside a
// readable target; the rest of the target was still checked.
type Warning struct {
	Target string `json:"target,omitempty"`
	Location
	Message string `json:"message"`
}

// String renders "where: message".
func (w Warning) String() string {
	where := w.Location.String()
	if where == "" {
		where = w.Target
	}
	if where == "" {
		return w.Message
	}
	return where + ": " + w.Message
}

// Note is something a person should know about a run that is neither a
// finding nor a parse problem: a check that could not be made, and why.
type Note struct {
	Target  string `json:"target,omitempty"`
	Message string `json:"message"`
}

// Sort orders findings by target, file, line, path, rule and message.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmpAll(
			strings.Compare(a.Target, b.Target),
			strings.Compare(a.File, b.File),
			a.Line-b.Line,
			strings.Compare(a.Path, b.Path),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Object, b.Object),
			strings.Compare(a.Message, b.Message),
		)
	})
}

func cmpAll(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}
