package vex

import (
	"errors"
	"fmt"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/vuln"
)

// ArtifactType is the artifactType of OpenVEX documents attached to an
// image as OCI referrers, and MediaType their blob's media type.
const (
	ArtifactType = "application/vnd.openvex+json"
	MediaType    = ArtifactType
)

// AnnotationSource is the referrer annotation naming what an attached
// document was derived from: the Go module whose source analysis made it.
const AnnotationSource = "dev.redline.vex.source"

// ImagePURL names an image by digest as an OCI package URL,
// pkg:oci/NAME@sha256:..., the product of statements about it. NAME is the
// last path element of name, without tag or digest, lower-cased ("image"
// when there is none); the digest alone identifies the image when
// statements are applied.
func ImagePURL(name, digest string) string {
	n := name
	if i := strings.Index(n, "@"); i >= 0 {
		n = n[:i]
	}
	if i := strings.LastIndex(n, "/"); i >= 0 {
		n = n[i+1:]
	}
	n, _, _ = strings.Cut(n, ":")
	n = strings.ToLower(n)
	if n == "" {
		n = "image"
	}
	return "pkg:oci/" + n + "@" + digest
}

// SourceStatements records the findings of a source-level analysis of the
// Go module an image was built from as statements about that image: the
// product is imagePURL (see [ImagePURL]; it must carry a sha256 digest),
// each statement's subcomponent the vulnerable module or standard library
// (pkg:golang/...). The statuses are [Build]'s: called findings are
// affected; imported ones (the package is linked in but the analysis found
// no call path to a vulnerable symbol) not_affected with
// vulnerable_code_not_in_execute_path; required ones (no vulnerable package
// is imported) not_affected with vulnerable_code_not_present. Findings
// about the go command itself (the "toolchain" module, which source scans
// also match) are left out: an image does not contain it.
//
// Scanning the image later without its source applies these statements
// (package scan reads them from the image's referrers), so that findings
// graded by the binary's function table alone (a vulnerable symbol is
// present) are suppressed where the call graph showed it is not reached.
func SourceStatements(findings []vuln.Finding, imagePURL string, opts WriteOptions) (*Document, error) {
	p, err := packageurl.FromString(imagePURL)
	if err != nil || p.Type != "oci" {
		return nil, fmt.Errorf("openvex: product %q is not an OCI package URL (pkg:oci/NAME@sha256:...)", imagePURL)
	}
	if alg, hex, ok := strings.Cut(p.Version, ":"); !ok || alg != "sha256" || len(hex) != 64 {
		return nil, errors.New("openvex: the image's package URL names no sha256 digest: source statements must be bound to one image")
	}
	kept := make([]vuln.Finding, 0, len(findings))
	for _, f := range findings {
		if f.Component.Type == "go-stdlib" && f.Component.Name == "toolchain" {
			continue
		}
		kept = append(kept, f)
	}
	doc, err := Build(kept, imagePURL, opts)
	if err != nil {
		return nil, err
	}
	for i := range doc.Statements {
		s := &doc.Statements[i]
		s.StatusNotes = strings.Replace(s.StatusNotes, "redline: ", "redline source analysis: ", 1)
	}
	if err := setID(doc, opts.ID); err != nil {
		return nil, err
	}
	return doc, nil
}
