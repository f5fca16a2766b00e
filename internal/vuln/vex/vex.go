// Package vex reads and writes OpenVEX 0.2.0 documents
// (https://github.com/openvex/spec): [Read] and [Apply] suppress findings
// that a statement says do not apply, [Write] records a scan's findings as
// one statement each.
//
// # Matching rules (Apply)
//
// A statement applies to a finding when its vulnerability and one of its
// products match:
//
//   - Vulnerability: the statement's vulnerability name, @id or one of its
//     aliases equals (ASCII case-insensitively) the finding's ID or one of
//     its aliases, so a statement about CVE-2022-32149 applies to
//     GO-2022-1059.
//   - Product, either of:
//     (a) the product matches the scanned product given to Apply, and the
//     product lists no subcomponents or one of them matches the finding's
//     component; or
//     (b) the product itself matches the finding's component and lists no
//     subcomponents (a statement about pkg:golang/golang.org/x/text
//     wherever it is used).
//   - An identifier (a product's or subcomponent's @id or identifiers.purl)
//     matches a purl when both are purls of the same type, namespace and
//     name, the identifier's version is empty or equal (Go versions compare
//     without "v" and "go": v1.2.3 = 1.2.3, go1.26.8 = 1.26.8) and each of
//     its qualifiers is present with the same value. OCI purls with a
//     digest on both sides match by digest alone (name and qualifiers such
//     as repository_url or tag are ignored: the digest is the image); a
//     product's hashes["sha-256"] also matches an OCI purl with that
//     digest, and so does an identifier that is the bare digest
//     (sha256:...). A scanned product that is not a purl (a binary path) matches
//     an identifier equal to it or a file: URL of the same path.
//     A finding's component matches a subcomponent by its purl, its
//     component ID, or its path (the binary it was found in).
//   - Among the statements that apply to a finding the latest wins: ordered
//     by timestamp (the statement's, else the document's), document order
//     breaking ties. When it says not_affected or fixed, the finding's
//     Suppressed is set; affected and under_investigation leave it alone.
//
// Statements whose products match nothing never apply: a document cannot
// suppress findings of another product by accident.
package vex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/vuln"
)

// Context is the JSON-LD context of OpenVEX 0.2.0 documents; ContextPrefix
// is what every OpenVEX version's context starts with.
const (
	Context       = "https://openvex.dev/ns/v0.2.0"
	ContextPrefix = "https://openvex.dev/ns"
)

// Statuses.
const (
	StatusNotAffected        = "not_affected"
	StatusAffected           = "affected"
	StatusFixed              = "fixed"
	StatusUnderInvestigation = "under_investigation"
)

// Justifications of not_affected.
const (
	ComponentNotPresent                         = "component_not_present"
	VulnerableCodeNotPresent                    = "vulnerable_code_not_present"
	VulnerableCodeNotInExecutePath              = "vulnerable_code_not_in_execute_path"
	VulnerableCodeCannotBeControlledByAdversary = "vulnerable_code_cannot_be_controlled_by_adversary"
	InlineMitigationsAlreadyExist               = "inline_mitigations_already_exist"
)

var (
	statuses       = []string{StatusNotAffected, StatusAffected, StatusFixed, StatusUnderInvestigation}
	justifications = []string{ComponentNotPresent, VulnerableCodeNotPresent, VulnerableCodeNotInExecutePath,
		VulnerableCodeCannotBeControlledByAdversary, InlineMitigationsAlreadyExist}
)

// Document is an OpenVEX document.
type Document struct {
	Context     string      `json:"@context"`
	ID          string      `json:"@id"`
	Author      string      `json:"author"`
	Role        string      `json:"role,omitempty"`
	Timestamp   time.Time   `json:"timestamp"`
	LastUpdated time.Time   `json:"last_updated,omitzero"`
	Version     Version     `json:"version"`
	Tooling     string      `json:"tooling,omitempty"`
	Statements  []Statement `json:"statements"`
}

// Statement is one assertion about a vulnerability in products.
type Statement struct {
	ID                       string        `json:"@id,omitempty"`
	Version                  Version       `json:"version,omitempty"`
	Vulnerability            Vulnerability `json:"vulnerability"`
	Timestamp                time.Time     `json:"timestamp,omitzero"`
	LastUpdated              time.Time     `json:"last_updated,omitzero"`
	Products                 []Component   `json:"products,omitempty"`
	Status                   string        `json:"status"`
	Supplier                 string        `json:"supplier,omitempty"`
	StatusNotes              string        `json:"status_notes,omitempty"`
	Justification            string        `json:"justification,omitempty"`
	ImpactStatement          string        `json:"impact_statement,omitempty"`
	ActionStatement          string        `json:"action_statement,omitempty"`
	ActionStatementTimestamp time.Time     `json:"action_statement_timestamp,omitzero"`
}

// Vulnerability names a vulnerability. OpenVEX 0.0.1's plain string is
// read as the name.
type Vulnerability struct {
	ID          string   `json:"@id,omitempty"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Aliases     []string `json:"aliases,omitempty"`
}

// Component is a product or, nested in one, a subcomponent (which has no
// subcomponents of its own). OpenVEX 0.0.1's plain string is read as @id.
type Component struct {
	ID            string            `json:"@id,omitempty"`
	Identifiers   map[string]string `json:"identifiers,omitempty"` // purl, @cpe22, @cpe23
	Hashes        map[string]string `json:"hashes,omitempty"`      // sha-256, ...
	Subcomponents []Component       `json:"subcomponents,omitempty"`
}

// Version is a document or statement version: an integer, also read from
// a string of digits (OpenVEX 0.0.1).
type Version int

// UnmarshalJSON reads 3 or "3".
func (v *Version) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("version %s is not an integer", b)
	}
	*v = Version(n)
	return nil
}

// UnmarshalJSON reads an object or a plain name.
func (v *Vulnerability) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*v = Vulnerability{Name: s}
		return nil
	}
	type plain Vulnerability
	return json.Unmarshal(b, (*plain)(v))
}

// UnmarshalJSON reads an object or a plain identifier.
func (c *Component) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = Component{ID: s}
		return nil
	}
	type plain Component
	return json.Unmarshal(b, (*plain)(c))
}

// Read parses and checks an OpenVEX document (0.2.0; the 0.0.1 string
// forms of vulnerabilities, products and versions are accepted). Errors
// name the problem and where it is (statements[2].status: ...). Read
// checks what applying relies on and the spec's rules for statuses; it
// tolerates unknown fields and a missing @id, author or version.
func Read(r io.Reader) (*Document, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("openvex: %w", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("openvex: not a JSON object: %s", jsonError(b, err))
	}
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("openvex: %s", jsonError(b, err))
	}
	if _, ok := probe["@context"]; !ok {
		return nil, errors.New("openvex: no @context (not an OpenVEX document?)")
	}
	if !strings.HasPrefix(doc.Context, ContextPrefix) {
		return nil, fmt.Errorf("openvex: @context %q is not OpenVEX's (%s/...)", doc.Context, ContextPrefix)
	}
	if _, ok := probe["statements"]; !ok {
		return nil, errors.New("openvex: no statements")
	}
	if len(doc.Statements) == 0 {
		return nil, errors.New("openvex: statements is empty")
	}
	for i := range doc.Statements {
		if err := doc.Statements[i].check(); err != nil {
			return nil, fmt.Errorf("openvex: statements[%d]%s", i, err)
		}
	}
	return &doc, nil
}

// jsonError says where a JSON error is.
func jsonError(b []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			return fmt.Sprintf("%s: %s", te.Field, err)
		}
	}
	if off < 0 {
		return err.Error()
	}
	line := 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n"))
	return fmt.Sprintf("line %d: %s", line, err)
}

// check returns an error starting with the field's path below the
// statement (".status: ...") or ": ...".
func (s *Statement) check() error {
	v := s.Vulnerability
	if v.Name == "" && v.ID == "" {
		return errors.New(".vulnerability: no name")
	}
	if !slices.Contains(statuses, s.Status) {
		if s.Status == "" {
			return errors.New(": no status")
		}
		return fmt.Errorf(".status: %q is not one of %s", s.Status, strings.Join(statuses, ", "))
	}
	if s.Justification != "" && !slices.Contains(justifications, s.Justification) {
		return fmt.Errorf(".justification: %q is not one of %s", s.Justification, strings.Join(justifications, ", "))
	}
	if s.Status == StatusNotAffected && s.Justification == "" && s.ImpactStatement == "" {
		return errors.New(": status not_affected needs a justification or an impact_statement")
	}
	if s.Status != StatusNotAffected && s.Justification != "" {
		return fmt.Errorf(".justification: only not_affected takes one (status is %s)", s.Status)
	}
	if len(s.Products) == 0 {
		return errors.New(": no products")
	}
	for i, p := range s.Products {
		if p.ID == "" && len(p.Identifiers) == 0 && len(p.Hashes) == 0 {
			return fmt.Errorf(".products[%d]: no @id, identifiers or hashes", i)
		}
		for j, sc := range p.Subcomponents {
			if sc.ID == "" && len(sc.Identifiers) == 0 && len(sc.Hashes) == 0 {
				return fmt.Errorf(".products[%d].subcomponents[%d]: no @id, identifiers or hashes", i, j)
			}
			if len(sc.Subcomponents) > 0 {
				return fmt.Errorf(".products[%d].subcomponents[%d]: a subcomponent has no subcomponents", i, j)
			}
		}
	}
	return nil
}

// Merge joins documents into one whose statements keep their own
// timestamps (a statement without one takes its document's) and their
// provenance (@id, else DOC#statements[i]), so that Apply picks the latest
// across documents. The result's timestamp is the newest document's.
func Merge(docs ...*Document) *Document {
	out := &Document{Context: Context, Author: "redline", Version: 1}
	var ids []string
	for _, d := range docs {
		if d == nil {
			continue
		}
		ids = append(ids, d.ID)
		if d.Timestamp.After(out.Timestamp) {
			out.Timestamp = d.Timestamp
		}
		for i, s := range d.Statements {
			if s.Timestamp.IsZero() {
				s.Timestamp = d.Timestamp
			}
			if s.ID == "" {
				s.ID = fmt.Sprintf("%s#statements[%d]", d.ID, i)
			}
			out.Statements = append(out.Statements, s)
		}
	}
	out.ID = "merged:" + strings.Join(ids, ",")
	return out
}

// Apply returns a copy of findings in which each finding that a
// not_affected or fixed statement of doc covers (see the package
// documentation for the matching rules) has Suppressed set: the status,
// the justification (or the impact statement when there is none) and the
// statement (its @id, else DOC#statements[i]). product identifies what was
// scanned: an image (pkg:oci/NAME@sha256:...), a module (pkg:golang/...),
// or a binary's path. Findings suppressed already are kept as they are.
func Apply(doc *Document, findings []vuln.Finding, product string) []vuln.Finding {
	out := slices.Clone(findings)
	if doc == nil {
		return out
	}
	for i := range out {
		f := &out[i]
		if f.Suppressed != nil {
			continue
		}
		best := -1
		var bestTime time.Time
		for j := range doc.Statements {
			s := &doc.Statements[j]
			if !s.Vulnerability.matches(f) || !s.coversProduct(product, f) {
				continue
			}
			t := s.Timestamp
			if t.IsZero() {
				t = doc.Timestamp
			}
			if best < 0 || !t.Before(bestTime) {
				best, bestTime = j, t
			}
		}
		if best < 0 {
			continue
		}
		s := &doc.Statements[best]
		if s.Status != StatusNotAffected && s.Status != StatusFixed {
			continue
		}
		where := s.ID
		if where == "" {
			where = fmt.Sprintf("%s#statements[%d]", doc.ID, best)
		}
		just := s.Justification
		if just == "" {
			just = s.ImpactStatement
		}
		f.Suppressed = &vuln.Suppression{Status: s.Status, Justification: just, Statement: where}
	}
	return out
}

func (v *Vulnerability) matches(f *vuln.Finding) bool {
	names := append([]string{v.Name, v.ID}, v.Aliases...)
	if strings.Contains(v.ID, "/") { // an IRI: https://pkg.go.dev/vuln/GO-2022-1059
		names = append(names, v.ID[strings.LastIndex(v.ID, "/")+1:])
	}
	ids := append([]string{f.ID}, f.Aliases...)
	for _, n := range names {
		if n == "" {
			continue
		}
		for _, id := range ids {
			if strings.EqualFold(n, id) {
				return true
			}
		}
	}
	return false
}

func (s *Statement) coversProduct(product string, f *vuln.Finding) bool {
	for _, p := range s.Products {
		if product != "" && p.matchesProduct(product) {
			if len(p.Subcomponents) == 0 {
				return true
			}
			for _, sc := range p.Subcomponents {
				if sc.matchesComponent(f.Component) {
					return true
				}
			}
		}
		if len(p.Subcomponents) == 0 && p.matchesComponent(f.Component) {
			return true
		}
	}
	return false
}

// identifiers lists a component's identifiers: @id and identifiers.purl.
func (c *Component) identifiers() []string {
	var ids []string
	if c.ID != "" {
		ids = append(ids, c.ID)
	}
	if p := c.Identifiers["purl"]; p != "" {
		ids = append(ids, p)
	}
	return ids
}

// matchesProduct matches the scanned product: a purl or a path.
func (c *Component) matchesProduct(product string) bool {
	if isPURL(product) {
		for _, id := range c.identifiers() {
			if purlMatches(id, product) {
				return true
			}
		}
		if tp, err := packageurl.FromString(product); err == nil && tp.Type == "oci" {
			if alg, hex, ok := strings.Cut(tp.Version, ":"); ok && alg == "sha256" && strings.EqualFold(c.Hashes["sha-256"], hex) {
				return true
			}
			// A bare digest (sha256:...) names the image too.
			for _, id := range c.identifiers() {
				if strings.HasPrefix(id, "sha256:") && strings.EqualFold(id, tp.Version) {
					return true
				}
			}
		}
		return false
	}
	want := cleanPath(product)
	for _, id := range c.identifiers() {
		if id == product || cleanPath(id) == want {
			return true
		}
	}
	return false
}

// matchesComponent matches a finding's component by purl, ID or path.
func (c *Component) matchesComponent(fc vuln.ComponentRef) bool {
	for _, id := range c.identifiers() {
		switch {
		case fc.PURL != "" && isPURL(id) && purlMatches(id, fc.PURL):
			return true
		case fc.ID != "" && id == fc.ID:
			return true
		case fc.Path != "" && !isPURL(id) && cleanPath(id) == cleanPath(fc.Path):
			return true
		}
	}
	return false
}

func isPURL(s string) bool { return strings.HasPrefix(s, "pkg:") }

// cleanPath turns a path or a file: URL into a clean slash path; anything
// else into "".
func cleanPath(s string) string {
	if strings.HasPrefix(s, "file:") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		s = u.Path
		if s == "" {
			s = u.Opaque
		}
	} else if strings.Contains(s, ":") && !filepath.IsAbs(s) {
		return "" // another scheme
	}
	if s == "" {
		return ""
	}
	return filepath.ToSlash(filepath.Clean(s))
}

// purlMatches reports whether the identifier purl (from a statement)
// matches the target purl; see the package documentation.
func purlMatches(ident, target string) bool {
	a, err := packageurl.FromString(ident)
	if err != nil {
		return false
	}
	b, err := packageurl.FromString(target)
	if err != nil {
		return false
	}
	if !strings.EqualFold(a.Type, b.Type) {
		return false
	}
	if strings.EqualFold(a.Type, "oci") {
		if a.Version != "" && b.Version != "" {
			return strings.EqualFold(a.Version, b.Version)
		}
		if !strings.EqualFold(a.Name, b.Name) {
			return false
		}
	} else if a.Namespace != b.Namespace || a.Name != b.Name {
		return false
	}
	if a.Version != "" && normVersion(a.Type, a.Version) != normVersion(b.Type, b.Version) {
		return false
	}
	bq := b.Qualifiers.Map()
	for k, v := range a.Qualifiers.Map() {
		if bq[k] != v {
			return false
		}
	}
	return true
}

func normVersion(typ, v string) string {
	if strings.EqualFold(typ, "golang") {
		v = strings.TrimPrefix(v, "go")
		v = strings.TrimPrefix(v, "v")
	}
	return v
}
