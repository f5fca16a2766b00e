package encode_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/encode"
)

func decodeCycloneDX(t *testing.T, b []byte, format cdx.BOMFileFormat) *cdx.BOM {
	t.Helper()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(b), format).Decode(&bom); err != nil {
		t.Fatalf("decoding with cyclonedx-go: %v", err)
	}
	return &bom
}

func byRef(bom *cdx.BOM) map[string]cdx.Component {
	m := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		m[c.BOMRef] = c
	}
	return m
}

func props(c cdx.Component) map[string][]string {
	m := map[string][]string{}
	if c.Properties != nil {
		for _, p := range *c.Properties {
			m[p.Name] = append(m[p.Name], p.Value)
		}
	}
	return m
}

// h1Hex is what a Go h1: hash must become in CycloneDX and SPDX.
func h1Hex(t *testing.T, h string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "h1:"))
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestCycloneDXRoundTrip(t *testing.T) {
	s := fixture()
	bom := decodeCycloneDX(t, mustEncode(t, encode.CycloneDXJSON, s), cdx.BOMFileFormatJSON)

	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.BOMFormat != "CycloneDX" || bom.Version != 1 {
		t.Errorf("spec %v format %q version %d, want 1.6 CycloneDX 1", bom.SpecVersion, bom.BOMFormat, bom.Version)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
		t.Errorf("serialNumber %q is no version 5 urn:uuid", bom.SerialNumber)
	}
	md := bom.Metadata
	if md.Timestamp != "2026-11-05T23:49:57Z" {
		t.Errorf("timestamp %q, want the subject's creation time", md.Timestamp)
	}
	tools := *md.Tools.Components
	if len(tools) != 1 || tools[0].Name != "redline" || tools[0].Version != "v0.4.0" {
		t.Errorf("tools = %+v", tools)
	}
	sub := md.Component
	if sub.BOMRef != idSubject || sub.Type != cdx.ComponentTypeContainer || sub.Name != "example.com/team/app" || sub.Version != "1.4.2" {
		t.Errorf("metadata.component = %+v", sub)
	}
	if hs := *sub.Hashes; len(hs) != 1 || hs[0].Algorithm != cdx.HashAlgoSHA256 || "sha256:"+hs[0].Value != imageDigest {
		t.Errorf("subject hashes = %+v", hs)
	}
	if got := props(*sub)[encode.PropSubjectPlatform]; !cmp.Equal(got, []string{"linux/amd64"}) {
		t.Errorf("subject platform = %v", got)
	}

	comps := byRef(bom)
	if len(comps) != len(s.Components) {
		t.Errorf("%d components, want %d", len(comps), len(s.Components))
	}
	wantType := map[sbom.Type]cdx.ComponentType{
		sbom.TypeOS: cdx.ComponentTypeOS, sbom.TypeBinary: cdx.ComponentTypeApplication,
		sbom.TypeStdlib: cdx.ComponentTypeLibrary, sbom.TypeGoModule: cdx.ComponentTypeLibrary,
		sbom.TypeDeb: cdx.ComponentTypeLibrary, sbom.TypeApk: cdx.ComponentTypeLibrary,
	}
	for _, want := range s.Components {
		got, ok := comps[want.ID]
		if !ok {
			t.Errorf("component %q missing", want.ID)
			continue
		}
		if got.Name != want.Name || got.Version != want.Version || got.PackageURL != want.PURL || got.Type != wantType[want.Type] {
			t.Errorf("%s: got %q %q %q %q", want.ID, got.Name, got.Version, got.PackageURL, got.Type)
		}
		p := props(got)
		if !cmp.Equal(p[encode.PropType], []string{string(want.Type)}) || !cmp.Equal(p[encode.PropPath], []string{want.Path}) {
			t.Errorf("%s: type/path properties %v %v", want.ID, p[encode.PropType], p[encode.PropPath])
		}
		if occ := got.Evidence; occ == nil || (*occ.Occurrences)[0].Location != want.Path {
			t.Errorf("%s: evidence %+v, want location %q", want.ID, occ, want.Path)
		}
	}

	// The h1: hash as SHA-256 hex.
	if hs := comps[idCmp].Hashes; hs == nil || (*hs)[0].Algorithm != cdx.HashAlgoSHA256 || (*hs)[0].Value != h1Hex(t, cmpHash) {
		t.Errorf("go-cmp hashes = %+v, want SHA-256 %s", hs, h1Hex(t, cmpHash))
	}

	// The replaced module: the replacement is the component, the original
	// its pedigree ancestor.
	fork := comps[idFork]
	if fork.Pedigree == nil || fork.Pedigree.Ancestors == nil || len(*fork.Pedigree.Ancestors) != 1 {
		t.Fatalf("replaced module has no pedigree ancestor: %+v", fork.Pedigree)
	}
	anc := (*fork.Pedigree.Ancestors)[0]
	if anc.Name != "gopkg.in/yaml.v3" || anc.Version != "v3.0.1" || anc.PackageURL != "pkg:golang/gopkg.in/yaml.v3@v3.0.1" ||
		anc.Hashes == nil || (*anc.Hashes)[0].Value != h1Hex(t, yamlHash) {
		t.Errorf("ancestor = %+v", anc)
	}
	for _, c := range *bom.Components {
		if c.Name == "gopkg.in/yaml.v3" {
			t.Errorf("the replaced module is listed as a component")
		}
	}

	// Build settings and ELF facts.
	bin := props(comps[idBinary])
	for name, want := range map[string]string{
		encode.PropGoSetting + "-ldflags":     `-s -w -X "main.version=1.4.2"`,
		encode.PropGoSetting + "CGO_ENABLED":  "0",
		encode.PropGoSetting + "vcs.revision": "e22db6528018a9b1c0ffee00deadbeef01234567",
		encode.PropGoVersion:                  "go1.26.8",
		encode.PropGoMainPath:                 "example.com/team/app",
		encode.PropELFStatic:                  "true",
		encode.PropELFPIE:                     "false",
		encode.PropELFStrip:                   "true",
		encode.PropLayer:                      "2",
	} {
		if got := bin[name]; !cmp.Equal(got, []string{want}) {
			t.Errorf("binary property %s = %q, want %q", name, got, want)
		}
	}
	if got := props(comps[idMain])[encode.PropGoMain]; !cmp.Equal(got, []string{"true"}) {
		t.Errorf("main module property = %v", got)
	}
	deb := props(comps[idLibssl])
	if !cmp.Equal(deb[encode.PropSourceName], []string{"openssl"}) || !cmp.Equal(deb[encode.PropSourceVersion], []string{"3.0.15-1~deb12u1"}) {
		t.Errorf("deb source = %v %v", deb[encode.PropSourceName], deb[encode.PropSourceVersion])
	}

	// Licenses.
	if ls := comps[idCrypto].Licenses; ls == nil || (*ls)[0].License == nil || (*ls)[0].License.ID != "Apache-2.0" {
		t.Errorf("libcrypto3 licenses = %+v", ls)
	}
	if ls := comps[idCerts].Licenses; ls == nil || (*ls)[0].Expression != "MPL-2.0 AND MIT" {
		t.Errorf("ca-certificates-bundle licenses = %+v", ls)
	}

	// Files: nested file components.
	var files []string
	for _, f := range *comps[idLibssl].Components {
		if f.Type != cdx.ComponentTypeFile || f.BOMRef != sbom.FileID(idLibssl, f.Name) {
			t.Errorf("file component %+v", f)
		}
		files = append(files, f.Name)
	}
	if diff := cmp.Diff(fixtureComponent(s, idLibssl).Files, files); diff != "" {
		t.Errorf("libssl3 files (-want +got):\n%s", diff)
	}

	// Dependencies: every non-file relationship, by its source.
	want := map[string][]string{}
	for _, r := range s.Relationships {
		if !strings.Contains(r.To, "#file:") {
			want[r.From] = append(want[r.From], r.To)
		}
	}
	got := map[string][]string{}
	for _, d := range *bom.Dependencies {
		got[d.Ref] = *d.Dependencies
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}

	// Distribution and warnings.
	md2 := map[string][]string{}
	for _, p := range *md.Properties {
		md2[p.Name] = append(md2[p.Name], p.Value)
	}
	if !cmp.Equal(md2[encode.PropDistroID], []string{"debian"}) ||
		!cmp.Equal(md2[encode.PropWarning], []string{"layer 1: /var/lib/dpkg/status: stanza 7: no Package field; skipped"}) {
		t.Errorf("metadata properties = %v", md2)
	}
	if bom.Compositions == nil || (*bom.Compositions)[0].Aggregate != cdx.CompositionAggregateIncomplete {
		t.Errorf("warnings did not mark the BOM incomplete: %+v", bom.Compositions)
	}
}

func fixtureComponent(s *sbom.SBOM, id string) *sbom.Component {
	for i := range s.Components {
		if s.Components[i].ID == id {
			return &s.Components[i]
		}
	}
	return nil
}

// TestCycloneDXXML checks that the XML is well-formed, is CycloneDX 1.6 and
// decodes to the same BOM as the JSON.
func TestCycloneDXXML(t *testing.T) {
	s := fixture()
	out := mustEncode(t, encode.CycloneDXXML, s)

	dec := xml.NewDecoder(bytes.NewReader(out))
	var root string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("XML is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Space + " " + se.Name.Local
		}
	}
	if root != "http://cyclonedx.org/schema/bom/1.6 bom" {
		t.Errorf("root element %q, want bom in the 1.6 name space", root)
	}

	fromXML := decodeCycloneDX(t, out, cdx.BOMFileFormatXML)
	fromJSON := decodeCycloneDX(t, mustEncode(t, encode.CycloneDXJSON, s), cdx.BOMFileFormatJSON)
	if fromXML.Components == nil || len(*fromXML.Components) != len(s.Components) || fromXML.Dependencies == nil {
		t.Fatalf("XML decoded to %d components and dependencies %v", len(byRef(fromXML)), fromXML.Dependencies)
	}
	// The format-specific fields differ by design.
	opts := cmp.Options{
		cmpopts.IgnoreFields(cdx.BOM{}, "XMLName", "XMLNS", "JSONSchema", "BOMFormat", "SpecVersion"),
		cmpopts.EquateEmpty(),
	}
	if diff := cmp.Diff(fromJSON, fromXML, opts); diff != "" {
		t.Errorf("XML and JSON decode differently (-json +xml):\n%s", diff)
	}
}

// TestCycloneDXSubjects covers the other subject kinds and the fallbacks of
// the document time.
func TestCycloneDXSubjects(t *testing.T) {
	for _, tc := range []struct {
		kind sbom.SubjectKind
		typ  cdx.ComponentType
	}{
		{sbom.SubjectImage, cdx.ComponentTypeContainer},
		{sbom.SubjectFile, cdx.ComponentTypeFile},
		{sbom.SubjectDir, cdx.ComponentTypeFile},
		{sbom.SubjectGoModule, cdx.ComponentTypeApplication},
	} {
		s := &sbom.SBOM{Subject: sbom.Subject{Kind: tc.kind, Ref: "x:y", Name: "y", ID: "s"}}
		out := mustEncode(t, encode.CycloneDXJSON, s)
		if err := validate(t, cycloneDXSchema, out); err != nil {
			t.Errorf("%s: %v", tc.kind, err)
		}
		bom := decodeCycloneDX(t, out, cdx.BOMFileFormatJSON)
		if got := bom.Metadata.Component.Type; got != tc.typ {
			t.Errorf("%s: type %q, want %q", tc.kind, got, tc.typ)
		}
		if got := bom.Metadata.Timestamp; got != "1970-01-01T00:00:00Z" {
			t.Errorf("%s: timestamp %q, want the Unix epoch", tc.kind, got)
		}
	}
}

// TestSerialNumber checks that the serial number follows the content.
func TestSerialNumber(t *testing.T) {
	serial := func(s *sbom.SBOM) string {
		return decodeCycloneDX(t, mustEncode(t, encode.CycloneDXJSON, s), cdx.BOMFileFormatJSON).SerialNumber
	}
	a := fixture()
	b := fixture()
	b.Components[0].Version += "-1"
	c := fixture()
	c.Tool.Version = "v0.5.0"
	serials := []string{serial(a), serial(b), serial(c)}
	if serials[0] != serial(fixture()) {
		t.Errorf("the same SBOM got two serial numbers")
	}
	sorted := append([]string(nil), serials...)
	sort.Strings(sorted)
	if sorted[0] == sorted[1] || sorted[1] == sorted[2] {
		t.Errorf("different SBOMs share a serial number: %v", serials)
	}
}
