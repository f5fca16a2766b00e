package vex

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/vuln"
)

// WriteOptions configures [Write] and [Build].
type WriteOptions struct {
	// Timestamp is the document's; set it for reproducible output. Zero
	// means now (UTC, whole seconds).
	Timestamp time.Time
	// Author defaults to "redline", Tooling to "redline".
	Author  string
	Role    string
	Tooling string
	// ID replaces the document's @id, which is otherwise derived from its
	// content: https://openvex.dev/docs/public/vex-SHA256, the convention
	// of OpenVEX's own tools for documents without a home.
	ID string
}

// Write writes findings about product as an OpenVEX 0.2.0 document (see
// [Build]), indented, with a final newline.
func Write(w io.Writer, findings []vuln.Finding, product string, opts WriteOptions) error {
	doc, err := Build(findings, product, opts)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

// Build makes the OpenVEX document of findings about product: one
// statement per (vulnerability, component), whose product is the scanned
// image (pkg:oci/NAME@sha256:...), module (a purl) or binary (a path,
// written as a file: URL), and whose subcomponent is the component's purl
// (pkg:golang/golang.org/x/text@v0.3.7, pkg:golang/stdlib@1.26.8,
// pkg:deb/...; pkg:generic/NAME@VERSION when the finding has none). The
// status says what the reach says:
//
//   - called: affected, with an action statement naming the fixed version
//     (or that none exists);
//   - imported: not_affected, vulnerable_code_not_in_execute_path;
//   - required: not_affected, vulnerable_code_not_present;
//   - installed (OS packages), or no reach: under_investigation — the
//     vulnerable version is installed, and redline does not analyse the
//     reachability of OS packages, so it claims neither affected nor
//     not_affected.
//
// A finding suppressed by an earlier VEX statement keeps that statement's
// status and justification (an impact statement naming it when it had no
// justification). Findings of the same vulnerability in the same
// component (one module linked into several binaries of an image) make one
// statement at the strongest reach. status_notes say why (the reachable
// symbols, the linked packages). Statements are sorted by vulnerability
// and component; with the same findings and options the output is
// byte-identical, @id included. A document without findings has an empty
// statements list (which the schema's minItems does not allow, but every
// reader accepts).
func Build(findings []vuln.Finding, product string, opts WriteOptions) (*Document, error) {
	if product == "" {
		return nil, errors.New("openvex: no product")
	}
	productID := productIRI(product)
	ts := opts.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	ts = ts.UTC().Truncate(time.Second)
	doc := &Document{
		Context:    Context,
		Author:     cmp.Or(opts.Author, "redline"),
		Role:       opts.Role,
		Timestamp:  ts,
		Version:    1,
		Tooling:    cmp.Or(opts.Tooling, "redline"),
		Statements: []Statement{},
	}

	type groupKey struct{ id, comp string }
	groups := map[groupKey][]vuln.Finding{}
	var keys []groupKey
	for _, f := range findings {
		k := groupKey{f.ID, componentIRI(f.Component)}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return strings.Compare(a.comp, b.comp)
	})
	for _, k := range keys {
		s := statementFor(groups[k])
		s.Products = []Component{{ID: productID, Subcomponents: []Component{{ID: k.comp}}}}
		doc.Statements = append(doc.Statements, s)
	}

	if err := setID(doc, opts.ID); err != nil {
		return nil, err
	}
	return doc, nil
}

// setID sets the document's @id: id, or one derived from the content.
func setID(doc *Document, id string) error {
	doc.ID = id
	if doc.ID == "" {
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		doc.ID = "https://openvex.dev/docs/public/vex-" + hex.EncodeToString(sum[:])
	}
	return nil
}

// statementFor makes the statement of one (vulnerability, component)
// group, without products.
func statementFor(fs []vuln.Finding) Statement {
	// The strongest unsuppressed finding speaks; when all are suppressed,
	// the first suppression does.
	lead := fs[0]
	found := false
	for _, f := range fs {
		if f.Suppressed == nil && (!found || f.Reach.Rank() > lead.Reach.Rank()) {
			lead, found = f, true
		}
	}
	s := Statement{Vulnerability: Vulnerability{Name: lead.ID}}
	seen := map[string]bool{lead.ID: true}
	for _, f := range fs {
		for _, a := range f.Aliases {
			if !seen[a] {
				seen[a] = true
				s.Vulnerability.Aliases = append(s.Vulnerability.Aliases, a)
			}
		}
	}
	slices.Sort(s.Vulnerability.Aliases)
	if u, err := url.Parse(lead.URL); err == nil && u.IsAbs() {
		s.Vulnerability.ID = lead.URL
	}
	var packages, symbols []string
	for _, f := range fs {
		if f.Reach == lead.Reach {
			packages = append(packages, f.Packages...)
			symbols = append(symbols, f.Symbols...)
		}
	}
	slices.Sort(packages)
	slices.Sort(symbols)
	packages, symbols = slices.Compact(packages), slices.Compact(symbols)
	comp := lead.Component.Name
	if lead.Component.Type == "go-stdlib" {
		comp = "the Go standard library"
	}

	if sup := lead.Suppressed; sup != nil {
		s.Status = sup.Status
		s.StatusNotes = "redline: carried over from VEX statement " + sup.Statement
		if s.Status == StatusNotAffected {
			if slices.Contains(justifications, sup.Justification) {
				s.Justification = sup.Justification
			} else {
				s.ImpactStatement = cmp.Or(sup.Justification, "Not affected according to VEX statement "+sup.Statement+".")
			}
		}
		return s
	}
	switch lead.Reach {
	case vuln.Called:
		s.Status = StatusAffected
		s.StatusNotes = "redline: vulnerable code is reachable"
		if len(symbols) > 0 {
			s.StatusNotes += ": " + strings.Join(symbols, ", ")
		}
		if len(lead.Trace) > 0 {
			var path []string
			for _, fr := range lead.Trace {
				path = append(path, fr.Function)
			}
			s.StatusNotes += " (for example " + strings.Join(path, " -> ") + ")"
		}
		s.ActionStatement = actionFor(lead, comp)
	case vuln.Imported:
		s.Status = StatusNotAffected
		s.Justification = VulnerableCodeNotInExecutePath
		s.StatusNotes = "redline: a vulnerable package is linked in, but none of its vulnerable symbols is reachable"
		if len(packages) > 0 {
			s.StatusNotes = "redline: linked in: " + strings.Join(packages, ", ") + "; none of the vulnerable symbols is reachable"
		}
	case vuln.Required:
		s.Status = StatusNotAffected
		s.Justification = VulnerableCodeNotPresent
		s.StatusNotes = "redline: " + comp + " is in the build list, but none of its vulnerable packages is linked in"
	default:
		s.Status = StatusUnderInvestigation
		s.StatusNotes = "redline: " + comp + " " + lead.Component.Version + " is installed at a vulnerable version; redline does not analyse the reachability of OS packages"
	}
	return s
}

func actionFor(f vuln.Finding, comp string) string {
	if f.Fixed == "" {
		return "No fixed version of " + comp + " is known: remove the call path or mitigate."
	}
	if f.Component.Type == "go-stdlib" {
		return "Rebuild with Go " + strings.TrimPrefix(f.Fixed, "go") + " or later."
	}
	return "Update " + comp + " to " + f.Fixed + " or later."
}

// productIRI writes the product as an IRI: a purl or other URI as is, a
// path as a file: URL.
func productIRI(p string) string {
	if i := strings.Index(p, ":"); i > 1 && !filepath.IsAbs(p) {
		return p // pkg:..., https://..., file:...
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	abs = filepath.ToSlash(abs)
	if !strings.HasPrefix(abs, "/") {
		abs = "/" + abs
	}
	return (&url.URL{Scheme: "file", Path: abs}).String()
}

// componentIRI names a finding's component as a purl.
func componentIRI(c vuln.ComponentRef) string {
	if c.PURL != "" {
		return c.PURL
	}
	switch c.Type {
	case "go-stdlib":
		return packageurl.NewPackageURL("golang", "", "stdlib", c.Version, nil, "").ToString()
	case "go-module":
		ns, name := "", c.Name
		if i := strings.LastIndex(c.Name, "/"); i >= 0 {
			ns, name = c.Name[:i], c.Name[i+1:]
		}
		return packageurl.NewPackageURL("golang", ns, name, c.Version, nil, "").ToString()
	}
	return packageurl.NewPackageURL("generic", "", cmp.Or(c.Name, "unknown"), c.Version, nil, "").ToString()
}
