package encode

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/redline-go/redline/internal/sbom"
)

const noAssertion = "NOASSERTION"

// placeholderSHA1 stands in for a file checksum redline did not compute.
// SPDX 2.3 requires a SHA1 for every file, and the model lists a package's
// files by path only; syft wrote the same placeholder for the same reason.
const placeholderSHA1 = "0000000000000000000000000000000000000000"

// SPDXJSON writes s as an SPDX 2.3 JSON document.
func SPDXJSON(w io.Writer, s *sbom.SBOM) error {
	d, err := prepare(s)
	if err != nil {
		return err
	}
	doc := d.spdx()
	if err := spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return fmt.Errorf("encoding spdx: %w", err)
	}
	return nil
}

// spdxIDs hands out SPDX element IDs: the model's IDs with every character
// outside [A-Za-z0-9.-] replaced by "-", made unique by a hash suffix.
type spdxIDs struct {
	byID  map[string]common.ElementID
	taken map[common.ElementID]bool
}

func (x *spdxIDs) id(modelID string) common.ElementID {
	if e, ok := x.byID[modelID]; ok {
		return e
	}
	var b strings.Builder
	for _, c := range modelID {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	e := common.ElementID(b.String())
	if e == "" {
		e = "x"
	}
	if x.taken[e] {
		sum := sha256.Sum256([]byte(modelID))
		base := e + "-" + common.ElementID(hex.EncodeToString(sum[:4]))
		e = base
		for n := 2; x.taken[e]; n++ {
			e = base + "-" + common.ElementID(strconv.Itoa(n))
		}
	}
	x.byID[modelID], x.taken[e] = e, true
	return e
}

// spdx maps the model to an SPDX 2.3 document; see the package
// documentation for the mapping.
func (d *doc) spdx() *spdx.Document {
	s := d.s
	ids := &spdxIDs{byID: map[string]common.ElementID{}, taken: map[common.ElementID]bool{"DOCUMENT": true}}
	refs := &licenseRefs{}
	toolCreator := d.toolName()
	if s.Tool.Version != "" {
		toolCreator += "-" + s.Tool.Version
	}

	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      d.subjectName(),
		DocumentNamespace: "https://redline.dev/spdx/" + namespaceName(d.subjectName()) + "-" + d.uuid,
		DocumentComment:   propLines(documentProps(s)),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: toolCreator}},
			Created:  d.timestamp(),
		},
	}

	subject := d.spdxSubject(ids.id(d.subjectID))
	doc.Packages = append(doc.Packages, subject)
	rel := func(a, b common.ElementID, typ string) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: typ,
		})
	}
	rel("DOCUMENT", subject.PackageSPDXIdentifier, common.TypeRelationshipDescribe)

	for i := range s.Components {
		doc.Packages = append(doc.Packages, spdxPackage(&s.Components[i], ids.id(s.Components[i].ID), refs))
	}
	for _, r := range d.edges {
		typ := common.TypeRelationshipDependsOn
		if r.Type == sbom.RelContains {
			typ = common.TypeRelationshipContains
		}
		rel(ids.id(r.From), ids.id(r.To), typ)
	}
	for i := range s.Components {
		c := &s.Components[i]
		seen := map[string]bool{}
		for _, f := range c.Files {
			if seen[f] {
				continue
			}
			seen[f] = true
			fid := ids.id(sbom.FileID(c.ID, f))
			doc.Files = append(doc.Files, &spdx.File{
				FileName:           f,
				FileSPDXIdentifier: fid,
				Checksums:          []common.Checksum{{Algorithm: common.SHA1, Value: placeholderSHA1}},
				LicenseConcluded:   noAssertion,
				FileCopyrightText:  noAssertion,
				FileComment:        "checksum not computed: the SHA1 is a placeholder",
			})
			rel(ids.id(c.ID), fid, common.TypeRelationshipContains)
		}
	}

	refIDs, texts := refs.sorted()
	for i, ref := range refIDs {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: ref,
			ExtractedText:     texts[i],
			LicenseName:       texts[i],
		})
	}
	return doc
}

// namespaceName keeps a subject name readable inside a URI path.
func namespaceName(name string) string {
	var b strings.Builder
	for _, c := range name {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// spdxSubject is the package the document describes.
func (d *doc) spdxSubject(id common.ElementID) *spdx.Package {
	sub := &d.s.Subject
	p := &spdx.Package{
		PackageName:               d.subjectName(),
		PackageSPDXIdentifier:     id,
		PackageVersion:            sub.Version,
		PackageDownloadLocation:   noAssertion,
		FilesAnalyzed:             false,
		IsFilesAnalyzedTagPresent: true,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    noAssertion,
		PackageCopyrightText:      noAssertion,
		PrimaryPackagePurpose:     spdxSubjectPurpose(sub.Kind),
		PackageComment:            propLines(subjectProps(sub)),
	}
	if alg, sum, ok := digest(sub.Digest); ok {
		p.PackageChecksums = []common.Checksum{{Algorithm: spdxDigestAlg[alg], Value: sum}}
	}
	return p
}

var spdxDigestAlg = map[string]common.ChecksumAlgorithm{
	"sha256": common.SHA256,
	"sha384": common.SHA384,
	"sha512": common.SHA512,
}

// spdxSubjectPurpose follows cdxSubjectType.
func spdxSubjectPurpose(k sbom.SubjectKind) string {
	switch k {
	case sbom.SubjectImage:
		return "CONTAINER"
	case sbom.SubjectGoModule:
		return "APPLICATION"
	}
	return "FILE"
}

// spdxPurpose follows cdxType.
func spdxPurpose(t sbom.Type) string {
	switch t {
	case sbom.TypeBinary:
		return "APPLICATION"
	case sbom.TypeOS:
		return "OPERATING-SYSTEM"
	}
	return "LIBRARY"
}

// sourceWhat names where a component's record came from.
var sourceWhat = map[sbom.Type]string{
	sbom.TypeGoModule: "Go build info",
	sbom.TypeStdlib:   "Go build info",
	sbom.TypeBinary:   "Go build info",
	sbom.TypeDeb:      "dpkg database",
	sbom.TypeApk:      "apk database",
	sbom.TypeOS:       "os-release",
}

func spdxPackage(c *sbom.Component, id common.ElementID, refs *licenseRefs) *spdx.Package {
	p := &spdx.Package{
		PackageName:               c.Name,
		PackageSPDXIdentifier:     id,
		PackageVersion:            c.Version,
		PackageDownloadLocation:   noAssertion,
		FilesAnalyzed:             false, // file contents were not analysed
		IsFilesAnalyzedTagPresent: true,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    spdxLicense(c.Licenses, refs),
		PackageCopyrightText:      noAssertion,
		PrimaryPackagePurpose:     spdxPurpose(c.Type),
		PackageComment:            propLines(componentProps(c, true)),
	}
	if c.Path != "" {
		what := sourceWhat[c.Type]
		if what == "" {
			what = string(c.Type)
		}
		p.PackageSourceInfo = "acquired package info from " + what + ": " + c.Path
		if c.Layer >= 0 {
			p.PackageSourceInfo += " (layer " + strconv.Itoa(c.Layer) + ")"
		}
	}
	if sum, ok := goHash(c.Hash); ok {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: sum}}
	}
	if c.PURL != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager,
			RefType:  common.TypePackageManagerPURL,
			Locator:  c.PURL,
		}}
	}
	return p
}
