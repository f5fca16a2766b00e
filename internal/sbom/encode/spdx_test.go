package encode_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/encode"
)

func decodeSPDX(t *testing.T, b []byte) *spdx.Document {
	t.Helper()
	var doc spdx.Document
	if err := spdxjson.ReadInto(bytes.NewReader(b), &doc); err != nil {
		t.Fatalf("decoding with tools-golang: %v", err)
	}
	return &doc
}

func TestSPDXRoundTrip(t *testing.T) {
	s := fixture()
	doc := decodeSPDX(t, mustEncode(t, encode.SPDXJSON, s))

	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXIdentifier != "DOCUMENT" {
		t.Errorf("header %q %q %q", doc.SPDXVersion, doc.DataLicense, doc.SPDXIdentifier)
	}
	if !regexp.MustCompile(`^https://redline\.dev/spdx/example\.com-team-app-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(doc.DocumentNamespace) {
		t.Errorf("documentNamespace %q", doc.DocumentNamespace)
	}
	ci := doc.CreationInfo
	if ci.Created != "2026-11-05T23:49:57Z" || len(ci.Creators) != 1 || ci.Creators[0] != (common.Creator{CreatorType: "Tool", Creator: "redline-v0.4.0"}) {
		t.Errorf("creationInfo = %+v", ci)
	}

	// Element IDs: valid, unique, and one package per component plus the
	// subject.
	idOK := regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)
	seen := map[common.ElementID]bool{}
	pkgs := map[string]*spdx.Package{} // by name@version
	for _, p := range doc.Packages {
		if !idOK.MatchString(string(p.PackageSPDXIdentifier)) || seen[p.PackageSPDXIdentifier] {
			t.Errorf("package SPDXID %q invalid or repeated", p.PackageSPDXIdentifier)
		}
		seen[p.PackageSPDXIdentifier] = true
		pkgs[p.PackageName+"@"+p.PackageVersion] = p
	}
	for _, f := range doc.Files {
		if !idOK.MatchString(string(f.FileSPDXIdentifier)) || seen[f.FileSPDXIdentifier] {
			t.Errorf("file SPDXID %q invalid or repeated", f.FileSPDXIdentifier)
		}
		seen[f.FileSPDXIdentifier] = true
	}
	if len(doc.Packages) != len(s.Components)+1 {
		t.Errorf("%d packages, want %d", len(doc.Packages), len(s.Components)+1)
	}

	subject := doc.Packages[0]
	if subject.PackageName != "example.com/team/app" || subject.PrimaryPackagePurpose != "CONTAINER" ||
		len(subject.PackageChecksums) != 1 || "sha256:"+subject.PackageChecksums[0].Value != imageDigest {
		t.Errorf("subject package = %+v", subject)
	}

	purpose := map[sbom.Type]string{
		sbom.TypeOS: "OPERATING-SYSTEM", sbom.TypeBinary: "APPLICATION", sbom.TypeStdlib: "LIBRARY",
		sbom.TypeGoModule: "LIBRARY", sbom.TypeDeb: "LIBRARY", sbom.TypeApk: "LIBRARY",
	}
	spdxID := map[string]common.ElementID{idSubject: subject.PackageSPDXIdentifier}
	for _, c := range s.Components {
		p := pkgs[c.Name+"@"+c.Version]
		if p == nil {
			t.Errorf("no package %s@%s", c.Name, c.Version)
			continue
		}
		spdxID[c.ID] = p.PackageSPDXIdentifier
		var purls []string
		for _, r := range p.PackageExternalReferences {
			if r.Category == common.CategoryPackageManager && r.RefType == common.TypePackageManagerPURL {
				purls = append(purls, r.Locator)
			}
		}
		if c.PURL != "" && !cmp.Equal(purls, []string{c.PURL}) {
			t.Errorf("%s: purls %v, want %q", c.ID, purls, c.PURL)
		}
		if p.PrimaryPackagePurpose != purpose[c.Type] {
			t.Errorf("%s: purpose %q, want %q", c.ID, p.PrimaryPackagePurpose, purpose[c.Type])
		}
		if !strings.Contains(p.PackageSourceInfo, c.Path) || !strings.Contains(p.PackageComment, encode.PropType+"="+string(c.Type)) {
			t.Errorf("%s: sourceInfo %q comment %q", c.ID, p.PackageSourceInfo, p.PackageComment)
		}
	}

	cmpPkg := pkgs["github.com/google/go-cmp@v0.7.0"]
	if len(cmpPkg.PackageChecksums) != 1 || cmpPkg.PackageChecksums[0] != (common.Checksum{Algorithm: common.SHA256, Value: h1Hex(t, cmpHash)}) {
		t.Errorf("go-cmp checksums = %+v", cmpPkg.PackageChecksums)
	}
	libssl := pkgs["libssl3@3.0.15-1~deb12u1+b1"]
	if libssl.PackageSourceInfo != "acquired package info from dpkg database: /var/lib/dpkg/status (layer 1)" {
		t.Errorf("libssl3 sourceInfo = %q", libssl.PackageSourceInfo)
	}
	// The replaced module stays the replacement; the original is kept in
	// the comment, not as a package a matcher would report.
	fork := pkgs["example.com/fork/yaml@v1.2.0-fix"]
	for _, line := range []string{
		encode.PropGoReplacedPath + "=gopkg.in/yaml.v3",
		encode.PropGoReplacedVersion + "=v3.0.1",
		encode.PropGoReplacedHash + "=" + yamlHash,
	} {
		if !strings.Contains(fork.PackageComment, line) {
			t.Errorf("replaced module comment %q lacks %q", fork.PackageComment, line)
		}
	}
	if pkgs["gopkg.in/yaml.v3@v3.0.1"] != nil {
		t.Errorf("the replaced module is a package")
	}
	bin := pkgs["server@v1.4.2"]
	for _, line := range []string{
		encode.PropGoSetting + `-ldflags=-s -w -X "main.version=1.4.2"`,
		encode.PropELFStatic + "=true",
	} {
		if !strings.Contains(bin.PackageComment, line) {
			t.Errorf("binary comment lacks %q", line)
		}
	}
	if got := pkgs["libcrypto3@3.3.2-r0"].PackageLicenseDeclared; got != "Apache-2.0" {
		t.Errorf("libcrypto3 licenseDeclared = %q", got)
	}
	if got := pkgs["tzdata@2024b-r0"].PackageLicenseDeclared; got != "LicenseRef-Public-Domain" ||
		len(doc.OtherLicenses) != 1 || doc.OtherLicenses[0].ExtractedText != "Public-Domain" {
		t.Errorf("tzdata licenseDeclared = %q, extracted %+v", got, doc.OtherLicenses)
	}

	// Files with their owner.
	fileName := map[common.ElementID]string{}
	for _, f := range doc.Files {
		fileName[f.FileSPDXIdentifier] = f.FileName
	}

	// Relationships: DESCRIBES, the model's, and CONTAINS for every file.
	type rel struct{ a, typ, b string }
	name := func(id common.DocElementID) string {
		for k, v := range spdxID {
			if v == id.ElementRefID {
				return k
			}
		}
		if f, ok := fileName[id.ElementRefID]; ok {
			return "file " + f
		}
		return string(id.ElementRefID)
	}
	var got []rel
	for _, r := range doc.Relationships {
		got = append(got, rel{name(r.RefA), r.Relationship, name(r.RefB)})
	}
	want := []rel{{"DOCUMENT", "DESCRIBES", idSubject}}
	for _, r := range s.Relationships {
		if strings.Contains(r.To, "#file:") {
			continue
		}
		want = append(want, rel{r.From, map[sbom.RelType]string{sbom.RelContains: "CONTAINS", sbom.RelDependsOn: "DEPENDS_ON"}[r.Type], r.To})
	}
	for _, c := range s.Components {
		for _, f := range c.Files {
			want = append(want, rel{c.ID, "CONTAINS", "file " + f})
		}
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(rel{}), cmpopts.SortSlices(func(x, y rel) bool {
		return x.a+x.typ+x.b < y.a+y.typ+y.b
	})); diff != "" {
		t.Errorf("relationships (-want +got):\n%s", diff)
	}

	if !strings.Contains(doc.DocumentComment, encode.PropWarning+"=layer 1: /var/lib/dpkg/status: stanza 7") {
		t.Errorf("document comment lacks the warning: %q", doc.DocumentComment)
	}
}

// TestSPDXIDs gives components whose IDs differ only in characters SPDX
// does not allow: their element IDs must still be distinct and valid.
func TestSPDXIDs(t *testing.T) {
	s := &sbom.SBOM{
		Subject: sbom.Subject{Kind: sbom.SubjectDir, Ref: "dir:/", Name: "/", ID: "DOCUMENT"},
		Components: []sbom.Component{
			{ID: "a/b", Type: sbom.TypeDeb, Name: "a", Layer: -1, Files: []string{"/x", "/x"}},
			{ID: "a:b", Type: sbom.TypeDeb, Name: "b", Layer: -1},
			{ID: "a-b", Type: sbom.TypeDeb, Name: "c", Layer: -1},
			{ID: "ä", Type: sbom.TypeDeb, Name: "d", Layer: -1},
		},
		Relationships: []sbom.Relationship{
			{From: "DOCUMENT", Type: sbom.RelContains, To: "a/b"},
			{From: "DOCUMENT", Type: sbom.RelContains, To: "a:b"},
			{From: "DOCUMENT", Type: sbom.RelContains, To: "a/b"}, // repeated
		},
	}
	out := mustEncode(t, encode.SPDXJSON, s)
	if err := validate(t, spdxSchema, out); err != nil {
		t.Fatal(err)
	}
	doc := decodeSPDX(t, out)
	seen := map[common.ElementID]bool{"DOCUMENT": true}
	for _, p := range doc.Packages {
		if seen[p.PackageSPDXIdentifier] {
			t.Errorf("SPDXID %q repeated", p.PackageSPDXIdentifier)
		}
		seen[p.PackageSPDXIdentifier] = true
	}
	if len(doc.Files) != 1 {
		t.Errorf("%d files, want the repeated path once", len(doc.Files))
	}
	// DESCRIBES, two CONTAINS from the subject, one for the file.
	if len(doc.Relationships) != 4 {
		t.Errorf("%d relationships, want 4", len(doc.Relationships))
	}
}

// TestCreated checks the document time: SBOM.Created wins, in UTC and whole
// seconds as SPDX demands.
func TestCreated(t *testing.T) {
	s := fixture()
	s.Created = time.Date(2027, 1, 2, 4, 5, 6, 999_000_000, time.FixedZone("CET", 3600))
	doc := decodeSPDX(t, mustEncode(t, encode.SPDXJSON, s))
	if got := doc.CreationInfo.Created; got != "2027-01-02T03:05:06Z" {
		t.Errorf("created %q, want 2027-01-02T03:05:06Z", got)
	}
	bom := decodeCycloneDX(t, mustEncode(t, encode.CycloneDXJSON, s), cdx.BOMFileFormatJSON)
	if got := bom.Metadata.Timestamp; got != "2027-01-02T03:05:06Z" {
		t.Errorf("timestamp %q, want 2027-01-02T03:05:06Z", got)
	}
}
