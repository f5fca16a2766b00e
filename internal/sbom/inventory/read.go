package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
)

// maxSBOM bounds an SBOM file read for scanning.
const maxSBOM = 256 << 20

// ReadSBOM reads an SBOM made by redline (its JSON) or any CycloneDX JSON
// (redline, syft, trivy) into the model, so `redline scan` can match it.
// Components are recognised by package URL (golang, deb, apk); those
// without a version are listed in warnings, since they cannot be matched
// and a silent skip would read as "no vulnerabilities".
func ReadSBOM(r io.Reader) (*sbom.SBOM, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSBOM+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSBOM {
		return nil, fmt.Errorf("SBOM larger than %d bytes", maxSBOM)
	}
	var probe struct {
		SchemaVersion string `json:"schemaVersion"`
		BOMFormat     string `json:"bomFormat"`
		SPDXVersion   string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON SBOM: %w", err)
	}
	switch {
	case probe.SchemaVersion == sbom.SchemaVersion:
		var s sbom.SBOM
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("redline SBOM: %w", err)
		}
		return &s, nil
	case probe.BOMFormat == "CycloneDX":
		return readCycloneDX(b)
	case probe.SPDXVersion != "":
		return nil, errors.New("SPDX input is not read yet: give the CycloneDX form (redline sbom, syft -o cyclonedx-json, trivy --format cyclonedx)")
	}
	return nil, errors.New("not an SBOM redline reads (want redline's JSON or CycloneDX JSON)")
}

func readCycloneDX(b []byte) (*sbom.SBOM, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(b), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("CycloneDX: %w", err)
	}
	s := &sbom.SBOM{SchemaVersion: sbom.SchemaVersion, Tool: Tool, Subject: sbom.Subject{Kind: sbom.SubjectFile, ID: "subject", Name: "sbom"}}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		s.Subject.Name = bom.Metadata.Component.Name
		s.Subject.Version = bom.Metadata.Component.Version
	}
	var walk func(cs *[]cdx.Component)
	walk = func(cs *[]cdx.Component) {
		if cs == nil {
			return
		}
		for i := range *cs {
			c := &(*cs)[i]
			if c.Type == cdx.ComponentTypeOS && s.Distro == nil && c.Name != "" {
				s.Distro = &sbom.Distro{ID: strings.ToLower(c.Name), VersionID: c.Version}
			}
			if comp, warn := fromPURL(c, s); warn != "" {
				s.Warnings = append(s.Warnings, sbom.Warning{Path: c.Name, Layer: -1, Message: warn})
			} else if comp != nil {
				s.Components = append(s.Components, *comp)
			}
			walk(c.Components)
		}
	}
	walk(bom.Components)
	s.Sort()
	return s, nil
}

// fromPURL maps a CycloneDX component by its package URL.
func fromPURL(c *cdx.Component, s *sbom.SBOM) (*sbom.Component, string) {
	if c.PackageURL == "" {
		return nil, ""
	}
	p, err := packageurl.FromString(c.PackageURL)
	if err != nil {
		return nil, fmt.Sprintf("package URL %q: %v", c.PackageURL, err)
	}
	version := p.Version
	if version == "" {
		version = c.Version
	}
	q := p.Qualifiers.Map()
	comp := &sbom.Component{ID: c.BOMRef, Name: p.Name, Version: version, PURL: c.PackageURL, Layer: -1, Arch: q["arch"]}
	if comp.ID == "" {
		comp.ID = c.PackageURL
	}
	switch p.Type {
	case packageurl.TypeGolang:
		if p.Namespace != "" {
			comp.Name = p.Namespace + "/" + p.Name
		}
		comp.Type = sbom.TypeGoModule
		if comp.Name == "stdlib" {
			comp.Type = sbom.TypeStdlib
			comp.Version = gobinary.StdlibVersion("go" + strings.TrimPrefix(version, "go"))
		}
	case packageurl.TypeDebian:
		comp.Type = sbom.TypeDeb
	case packageurl.TypeApk:
		comp.Type = sbom.TypeApk
	default:
		return nil, ""
	}
	if version == "" || version == "(devel)" && comp.Type != sbom.TypeGoModule {
		return nil, fmt.Sprintf("%s has no version: it cannot be matched", c.PackageURL)
	}
	if comp.Type == sbom.TypeDeb || comp.Type == sbom.TypeApk {
		if up := q["upstream"]; up != "" {
			comp.SourceName, comp.SourceVersion, _ = strings.Cut(up, "@")
		}
		if d := q["distro"]; d != "" && s.Distro == nil {
			id, ver, _ := strings.Cut(d, "-")
			s.Distro = &sbom.Distro{ID: id, VersionID: ver}
		}
	}
	return comp, ""
}
