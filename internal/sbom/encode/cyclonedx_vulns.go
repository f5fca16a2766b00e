package encode

import (
	"fmt"
	"io"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
)

// CycloneDXJSONWithVulns writes s as CycloneDX 1.6 JSON with a
// vulnerabilities section: one entry per finding, affecting the
// component by its bom-ref, rated with the data's severity, and analysed
// the way redline graded it (called: exploitable; imported:
// code_not_reachable; required: code_not_present; a VEX suppression as
// its justification).
func CycloneDXJSONWithVulns(w io.Writer, s *sbom.SBOM, findings []vuln.Finding) error {
	d, err := prepare(s)
	if err != nil {
		return err
	}
	bom := d.cycloneDX()
	refs := map[string]bool{}
	for _, c := range s.Components {
		refs[c.ID] = true
	}
	var vs []cdx.Vulnerability
	for i, f := range findings {
		v := cdx.Vulnerability{
			BOMRef:      fmt.Sprintf("vuln-%d-%s", i, f.ID),
			ID:          f.ID,
			Source:      &cdx.Source{Name: sourceName(f.ID), URL: f.URL},
			Description: f.Summary,
			Ratings:     &[]cdx.VulnerabilityRating{{Severity: cdxSeverity(f.Severity), Vector: f.CVSS}},
			Properties:  &[]cdx.Property{{Name: "redline:reach", Value: string(f.Reach)}},
		}
		if f.CVSS != "" {
			(*v.Ratings)[0].Method = cdx.ScoringMethodCVSSv31
		}
		if len(f.Aliases) > 0 {
			var rs []cdx.VulnerabilityReference
			for _, a := range f.Aliases {
				rs = append(rs, cdx.VulnerabilityReference{ID: a, Source: &cdx.Source{Name: sourceName(a)}})
			}
			v.References = &rs
		}
		ref := f.Component.ID
		if !refs[ref] {
			ref = bom.Metadata.Component.BOMRef
		}
		v.Affects = &[]cdx.Affects{{Ref: ref, Range: &[]cdx.AffectedVersions{{Version: f.Component.Version, Status: cdx.VulnerabilityStatusAffected}}}}
		if f.Fixed != "" {
			v.Recommendation = "upgrade " + f.Component.Name + " to " + f.Fixed
		}
		v.Analysis = analysis(f)
		vs = append(vs, v)
	}
	bom.Vulnerabilities = &vs
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("encoding cyclonedx: %w", err)
	}
	return nil
}

func analysis(f vuln.Finding) *cdx.VulnerabilityAnalysis {
	a := &cdx.VulnerabilityAnalysis{State: cdx.IASExploitable}
	switch {
	case f.Suppressed != nil:
		a.State = cdx.IASNotAffected
		a.Detail = f.Suppressed.Justification
		if f.Suppressed.Status == "fixed" {
			a.State = cdx.IASResolved
		}
	case f.Reach == vuln.Imported:
		a.State, a.Justification = cdx.IASNotAffected, cdx.IAJCodeNotReachable
		a.Detail = "a vulnerable package is linked in, none of its vulnerable symbols"
	case f.Reach == vuln.Required:
		a.State, a.Justification = cdx.IASNotAffected, cdx.IAJCodeNotPresent
		a.Detail = "the module is in the build, no vulnerable package is linked in"
	case f.Reach == vuln.Installed:
		a.State = cdx.IASInTriage
		a.Detail = "an installed OS package; reachability is not analysed"
	}
	return a
}

func cdxSeverity(s string) cdx.Severity {
	switch s {
	case vuln.SevCritical:
		return cdx.SeverityCritical
	case vuln.SevHigh:
		return cdx.SeverityHigh
	case vuln.SevMedium:
		return cdx.SeverityMedium
	case vuln.SevLow:
		return cdx.SeverityLow
	}
	return cdx.SeverityUnknown
}

func sourceName(id string) string {
	switch {
	case len(id) > 3 && id[:3] == "GO-":
		return "Go Vulnerability Database"
	case len(id) > 5 && id[:5] == "GHSA-":
		return "GitHub Advisory Database"
	case len(id) > 4 && id[:4] == "CVE-":
		return "NVD"
	}
	return "OSV"
}
