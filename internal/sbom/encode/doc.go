// Package encode writes an [sbom.SBOM] as CycloneDX 1.6 (JSON or XML), SPDX
// 2.3 JSON, redline's own JSON, or a table for people.
//
// Every encoder is a [Func]; [Lookup] finds one by the name `-o` takes.
// The standard encoders work on a sorted copy of the SBOM and never modify
// it, and they are reproducible: the same SBOM gives the same bytes. The
// document time is SBOM.Created, else the subject's creation time, else the
// Unix epoch. The CycloneDX serial number and the SPDX document namespace
// carry a version 5 UUID of the SBOM's content (tool version included), not
// of the subject alone: two different inventories of one image, say by two
// versions of redline, are two documents and must not share a serial number.
//
// An SBOM whose references do not hold together (duplicate or empty IDs, a
// relationship to an unknown ID) is a bug of its producer and fails with
// [ErrInvalid] rather than yielding a document that names missing elements.
//
// # CycloneDX
//
//	model                       CycloneDX 1.6
//	Subject                     metadata.component: bom-ref = Subject.ID ("subject" when empty);
//	                            type container (image), application (go-module), file (file,
//	                            directory); name, version; digest -> hashes; kind, ref,
//	                            platform -> properties redline:subject:*
//	Created / Tool              metadata.timestamp / metadata.tools.components[] (application)
//	Distro, Warnings            metadata.properties redline:distro:*, redline:warning;
//	                            warnings also add compositions[] {incomplete, [subject]}
//	Component.ID                bom-ref
//	Component.Type              type: library (go-module, go-stdlib, deb, apk), application
//	                            (binary), operating-system (os); the model's type in redline:type
//	Name, Version, PURL         name, version, purl
//	Licenses                    licenses: SPDX id, or name when not on the SPDX list, or one
//	                            expression; acknowledgement "declared"
//	Hash ("h1:" base64)         hashes[] SHA-256, hex (other forms: redline:hash)
//	Replaced                    pedigree.ancestors[0] (name, version, purl, hash) - kept out of
//	                            the component list so matchers do not flag the original
//	Path                        evidence.occurrences[0].location and redline:path
//	Layer, Arch, Source*, Main  properties redline:layer, redline:arch, redline:source:*,
//	                            redline:go:main
//	Go, ELF                     properties redline:go:*, redline:go:setting:<key>, redline:elf:*
//	Files                       nested components of type file, bom-ref = sbom.FileID(ID, path)
//	Relationships               dependencies[from].dependsOn[] for both kinds; files by nesting
//
// # SPDX
//
//	model                       SPDX 2.3
//	Subject                     the package SPDXRef-DOCUMENT DESCRIBES; purpose CONTAINER,
//	                            APPLICATION or FILE; digest -> checksums; the rest in its comment
//	Created / Tool              creationInfo.created / creators "Tool: redline-VERSION"
//	(content hash)              documentNamespace https://redline.dev/spdx/<name>-<uuid>
//	Distro, Warnings            document comment, one "redline:...=value" line each
//	Component.ID                SPDXID: SPDXRef- and the ID with [^A-Za-z0-9.-] -> "-",
//	                            made unique by a hash suffix
//	Component.Type              primaryPackagePurpose LIBRARY, APPLICATION or OPERATING-SYSTEM
//	Name, Version               name, versionInfo; downloadLocation NOASSERTION
//	PURL                        externalRefs PACKAGE-MANAGER purl
//	Licenses                    licenseDeclared (all entries ANDed; unlisted identifiers as
//	                            LicenseRef-* with hasExtractedLicensingInfos); concluded NOASSERTION
//	Hash                        checksums SHA256
//	Path, Layer                 sourceInfo "acquired package info from <what>: <path> (layer N)"
//	everything else             package comment, one "redline:...=value" line each (the same
//	                            names as the CycloneDX properties; Replaced as redline:go:replaced:*)
//	Files                       files[] with CONTAINS from the package; the SHA1 SPDX requires is
//	                            a placeholder of zeros (the model has no file digests)
//	Relationships               CONTAINS, DEPENDS_ON
//
// filesAnalyzed is false for every package: redline reads package databases
// and build info, not file contents. SPDX 2.3 says such a package should
// list no files; syft lists them anyway and so does redline, because "which
// package owns this path" is what the files are for.
package encode

import (
	"fmt"
	"io"
	"sort"

	"github.com/redline-go/redline/internal/sbom"
)

// Func writes an SBOM in one format.
type Func func(w io.Writer, s *sbom.SBOM) error

// formats are the encoders by the names the command line takes.
var formats = map[string]Func{
	"table":          Table,
	"json":           JSON,
	"cyclonedx-json": CycloneDXJSON,
	"cyclonedx-xml":  CycloneDXXML,
	"spdx-json":      SPDXJSON,
}

// Names lists the format names [Lookup] knows, sorted.
func Names() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the encoder of a format name.
func Lookup(name string) (Func, error) {
	if f, ok := formats[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown sbom format %q (known: %v)", name, Names())
}
