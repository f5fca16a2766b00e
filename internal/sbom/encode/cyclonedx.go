package encode

import (
	"fmt"
	"io"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/sbom"
)

// CycloneDXJSON writes s as a CycloneDX 1.6 JSON document.
func CycloneDXJSON(w io.Writer, s *sbom.SBOM) error {
	return writeCycloneDX(w, s, cdx.BOMFileFormatJSON)
}

// CycloneDXXML writes s as a CycloneDX 1.6 XML document.
func CycloneDXXML(w io.Writer, s *sbom.SBOM) error {
	return writeCycloneDX(w, s, cdx.BOMFileFormatXML)
}

func writeCycloneDX(w io.Writer, s *sbom.SBOM, format cdx.BOMFileFormat) error {
	d, err := prepare(s)
	if err != nil {
		return err
	}
	bom := d.cycloneDX()
	enc := cdx.NewBOMEncoder(w, format).SetPretty(true).SetEscapeHTML(false)
	// EncodeVersion sets $schema and the XML name space of 1.6.
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("encoding cyclonedx: %w", err)
	}
	return nil
}

// cycloneDX maps the model to a CycloneDX BOM; see the package
// documentation for the mapping.
func (d *doc) cycloneDX() *cdx.BOM {
	s := d.s
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.SerialNumber = "urn:uuid:" + d.uuid

	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: d.toolName(), Version: s.Tool.Version}
	bom.Metadata = &cdx.Metadata{
		Timestamp:  d.timestamp(),
		Tools:      &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component:  d.cdxSubject(),
		Properties: cdxProps(documentProps(s)),
	}

	comps := make([]cdx.Component, 0, len(s.Components))
	for i := range s.Components {
		comps = append(comps, cdxComponent(&s.Components[i]))
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}

	// CycloneDX has one graph, "dependsOn". Both relationship kinds go
	// there: the subject's "contains" edges say what the image holds (the
	// way trivy writes images), a binary's "depends-on" edges the modules
	// linked into it. A package's files are nested components instead, so
	// the graph stays one of packages. Only components with known edges get
	// an entry: CycloneDX reads an empty entry as "has no dependencies",
	// and a binary's modules have dependencies its build info does not list.
	var deps []cdx.Dependency
	var on map[string]bool // targets of the last entry: both kinds may name one
	for _, r := range d.edges {
		if n := len(deps); n == 0 || deps[n-1].Ref != r.From {
			deps = append(deps, cdx.Dependency{Ref: r.From, Dependencies: &[]string{}})
			on = map[string]bool{}
		}
		if !on[r.To] {
			on[r.To] = true
			list := deps[len(deps)-1].Dependencies
			*list = append(*list, r.To)
		}
	}
	if len(deps) > 0 {
		bom.Dependencies = &deps
	}

	if len(s.Warnings) > 0 {
		// Warnings mean content went unread: say the inventory is partial.
		bom.Compositions = &[]cdx.Composition{{
			Aggregate:  cdx.CompositionAggregateIncomplete,
			Assemblies: &[]cdx.BOMReference{cdx.BOMReference(d.subjectID)},
		}}
	}
	return bom
}

// cdxSubject is the subject as metadata.component.
func (d *doc) cdxSubject() *cdx.Component {
	sub := &d.s.Subject
	c := &cdx.Component{
		BOMRef:     d.subjectID,
		Type:       cdxSubjectType(sub.Kind),
		Name:       d.subjectName(),
		Version:    sub.Version,
		Properties: cdxProps(subjectProps(sub)),
	}
	if alg, sum, ok := digest(sub.Digest); ok {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdxDigestAlg[alg], Value: sum}}
	}
	return c
}

var cdxDigestAlg = map[string]cdx.HashAlgorithm{
	"sha256": cdx.HashAlgoSHA256,
	"sha384": cdx.HashAlgoSHA384,
	"sha512": cdx.HashAlgoSHA512,
}

// cdxSubjectType: an image is a container; a Go module an application
// (redline's subjects are services; the model does not say whether a
// module has a main package); a single file and a root-filesystem directory
// are files, as syft writes them, CycloneDX having no directory type.
func cdxSubjectType(k sbom.SubjectKind) cdx.ComponentType {
	switch k {
	case sbom.SubjectImage:
		return cdx.ComponentTypeContainer
	case sbom.SubjectGoModule:
		return cdx.ComponentTypeApplication
	}
	return cdx.ComponentTypeFile
}

// cdxType maps component types. The Go standard library is a library, as
// syft and trivy write it, so that matchers keyed on libraries see it.
func cdxType(t sbom.Type) cdx.ComponentType {
	switch t {
	case sbom.TypeBinary:
		return cdx.ComponentTypeApplication
	case sbom.TypeOS:
		return cdx.ComponentTypeOS
	}
	return cdx.ComponentTypeLibrary
}

func cdxComponent(c *sbom.Component) cdx.Component {
	out := cdx.Component{
		BOMRef:     c.ID,
		Type:       cdxType(c.Type),
		Name:       c.Name,
		Version:    c.Version,
		PackageURL: c.PURL,
		Licenses:   cdxLicenses(c.Licenses),
		Properties: cdxProps(componentProps(c, false)),
	}
	if sum, ok := goHash(c.Hash); ok {
		out.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: sum}}
	}
	if r := c.Replaced; r != nil {
		// The replacement is what was linked; the module it replaced is
		// its ancestor. Pedigree keeps it out of the component list, so a
		// vulnerability matcher does not report the original's advisories.
		anc := cdx.Component{
			Type:       cdx.ComponentTypeLibrary,
			Name:       r.Path,
			Version:    r.Version,
			PackageURL: goPURL(r.Path, r.Version),
		}
		if sum, ok := goHash(r.Hash); ok {
			anc.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: sum}}
		} else if r.Hash != "" {
			anc.Properties = &[]cdx.Property{{Name: PropHash, Value: r.Hash}}
		}
		out.Pedigree = &cdx.Pedigree{
			Ancestors: &[]cdx.Component{anc},
			Notes:     "replaced by a go.mod replace directive",
		}
	}
	if c.Path != "" {
		out.Evidence = &cdx.Evidence{Occurrences: &[]cdx.EvidenceOccurrence{{Location: c.Path}}}
	}
	if len(c.Files) > 0 {
		files := make([]cdx.Component, 0, len(c.Files))
		seen := map[string]bool{}
		for _, f := range c.Files {
			if seen[f] {
				continue
			}
			seen[f] = true
			files = append(files, cdx.Component{BOMRef: sbom.FileID(c.ID, f), Type: cdx.ComponentTypeFile, Name: f})
		}
		out.Components = &files
	}
	return out
}

// goPURL is the package URL of a Go module.
func goPURL(path, version string) string {
	if path == "" || strings.HasPrefix(path, ".") || strings.HasPrefix(path, "/") {
		return "" // a local directory replacement has no package URL
	}
	ns, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		ns, name = path[:i], path[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

func cdxProps(ps []prop) *[]cdx.Property {
	if len(ps) == 0 {
		return nil
	}
	out := make([]cdx.Property, len(ps))
	for i, p := range ps {
		out[i] = cdx.Property{Name: p.name, Value: p.value}
	}
	return &out
}

// cdxLicenses maps declared licenses. CycloneDX takes either a list of
// licenses (by SPDX id, or by name when not on the list) or exactly one SPDX
// expression, never both. So a single expression stays one; several entries
// of which one is an expression are joined into one expression when every
// identifier is listed, and are otherwise all written as license names.
func cdxLicenses(texts []string) *cdx.Licenses {
	var ls []license
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			ls = append(ls, parseLicense(t, &licenseRefs{}))
		}
	}
	if len(ls) == 0 {
		return nil
	}
	declared := cdx.LicenseAcknowledgementDeclared
	compound, allKnown := false, true
	for _, l := range ls {
		compound = compound || l.ok && l.known && l.compound
		allKnown = allKnown && l.ok && l.known
	}
	if compound && allKnown {
		parts := make([]string, len(ls))
		for i, l := range ls {
			parts[i] = l.expr
			if len(ls) > 1 && l.compound {
				parts[i] = "(" + l.expr + ")"
			}
		}
		return &cdx.Licenses{{Expression: strings.Join(parts, " AND "), Acknowledgement: &declared}}
	}
	out := make(cdx.Licenses, len(ls))
	for i, l := range ls {
		lic := &cdx.License{Acknowledgement: declared}
		if l.id != "" {
			lic.ID = l.id
		} else {
			lic.Name = l.text
		}
		out[i] = cdx.LicenseChoice{License: lic}
	}
	return &out
}
