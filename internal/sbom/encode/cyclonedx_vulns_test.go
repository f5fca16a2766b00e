package encode_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/redline-go/redline/internal/sbom/encode"
	"github.com/redline-go/redline/internal/sbom/sbomtest"
	"github.com/redline-go/redline/internal/vuln"
)

func TestCycloneDXWithVulns(t *testing.T) {
	s := fixture()
	var target string
	for _, c := range s.Components {
		if c.Type == "go-stdlib" {
			target = c.ID
		}
	}
	if target == "" {
		t.Fatal("fixture has no stdlib component")
	}
	fs := []vuln.Finding{
		{ID: "GO-2026-4000", Aliases: []string{"CVE-2026-1111"}, Severity: "unknown", Reach: vuln.Called, Fixed: "1.26.10",
			Component: vuln.ComponentRef{ID: target, Type: "go-stdlib", Name: "stdlib", Version: "1.26.8"}, URL: "https://pkg.go.dev/vuln/GO-2026-4000"},
		{ID: "DSA-1", Severity: "high", CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", Reach: vuln.Required,
			Component: vuln.ComponentRef{ID: "not-in-the-sbom", Type: "deb", Name: "x", Version: "1"}},
	}
	var buf bytes.Buffer
	if err := encode.CycloneDXJSONWithVulns(&buf, s, fs); err != nil {
		t.Fatal(err)
	}
	if err := sbomtest.Validate(sbomtest.CycloneDX, buf.Bytes()); err != nil {
		t.Fatalf("invalid CycloneDX: %v", err)
	}
	var doc struct {
		Vulnerabilities []struct {
			ID       string
			Affects  []struct{ Ref string }
			Analysis struct{ State, Justification string }
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vulnerabilities) != 2 {
		t.Fatalf("%d vulnerabilities, want 2", len(doc.Vulnerabilities))
	}
	v0, v1 := doc.Vulnerabilities[0], doc.Vulnerabilities[1]
	if v0.ID != "GO-2026-4000" || v0.Affects[0].Ref != target || v0.Analysis.State != "exploitable" {
		t.Errorf("called finding = %+v", v0)
	}
	if v1.Analysis.State != "not_affected" || v1.Analysis.Justification != "code_not_present" || v1.Affects[0].Ref != s.Subject.ID {
		t.Errorf("required finding = %+v (an unknown component falls back to the subject)", v1)
	}
}
