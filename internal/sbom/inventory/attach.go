package inventory

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
	"github.com/redline-go/redline/internal/sbom/encode"
)

// ArtifactTypeCycloneDX is the artifactType of attached CycloneDX SBOMs.
const ArtifactTypeCycloneDX = "application/vnd.cyclonedx+json"

// SBOMAttacher attaches the CycloneDX SBOM of each platform's image to
// what `redline build` made, so later steps reuse it instead of
// cataloguing again (DESIGN.md, "Attachments"): a referrer in OCI layouts
// and registries, NAME.cdx.json beside a docker archive.
//
// On the static and scratch bases every layer is redline's own and the
// binary is the only file a cataloger reads, so the attacher reads the
// binary the build left on disk; the SBOM is the one the pass over the
// image gives, without decompressing the layers just written (most of the
// attacher's time). With a --base image it makes that pass.
type SBOMAttacher struct {
	Image image.Options
	Pass  image.PassOptions
}

// Attach implements build.Attacher.
func (a SBOMAttacher) Attach(ctx context.Context, b *build.Built) ([]build.Attachment, error) {
	var out []build.Attachment
	for _, p := range b.Platforms {
		plat := p.Platform
		var s *sbom.SBOM
		var err error
		if b.BaseImage || p.BinaryFile == "" {
			s, err = a.walk(ctx, b, p)
		} else {
			s, err = builtSBOM(b, p)
		}
		if err != nil {
			return nil, fmt.Errorf("SBOM of the built image (%s): %w", plat.String(), err)
		}
		var buf bytes.Buffer
		if err := encode.CycloneDXJSON(&buf, s); err != nil {
			return nil, fmt.Errorf("SBOM of the built image (%s): %w", plat.String(), err)
		}
		att := build.Attachment{
			ArtifactType: ArtifactTypeCycloneDX, Data: buf.Bytes(),
			Annotations: map[string]string{"org.opencontainers.image.description": "CycloneDX SBOM made by redline build"},
		}
		if len(b.Platforms) > 1 {
			att.Platform = plat.String()
		} else {
			att.Suffix = ".cdx.json"
		}
		out = append(out, att)
	}
	return out, nil
}

// walk makes the SBOM with the one pass over the staged image.
func (a SBOMAttacher) walk(ctx context.Context, b *build.Built, p build.BuiltPlatform) (*sbom.SBOM, error) {
	o := a.Image
	plat := p.Platform
	o.Platform = &plat
	s, err := Image(ctx, image.Target{Scheme: image.OCIDir, Value: b.Layout}, o, a.Pass)
	if err != nil {
		return nil, err
	}
	// The image was read from a staging directory, whose path must not
	// reach the SBOM (the same build must give the same bytes).
	nameBuilt(&s.Subject, b, p)
	return s, nil
}

// nameBuilt names the subject of a built image's SBOM by its digest and
// the build's tag, never by where the build staged it.
func nameBuilt(sub *sbom.Subject, b *build.Built, p build.BuiltPlatform) {
	sub.Ref, sub.Digest = "oci:"+p.Digest.String(), p.Digest.String()
	sub.Name, sub.Version = b.Tag, ""
	if n, tag, ok := cutTag(sub.Name); ok {
		sub.Name, sub.Version = n, tag
	}
}

// builtSBOM makes the SBOM of an image whose layers are the static (or
// scratch) base and the binary's layer: what the pass would say, with the
// binary read from the file its layer was made of.
func builtSBOM(b *build.Built, p build.BuiltPlatform) (*sbom.SBOM, error) {
	cfg, err := p.Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	sub := sbom.Subject{Kind: sbom.SubjectImage, Created: cfg.Created.Time, ID: "subject"}
	nameBuilt(&sub, b, p)
	if cfg.OS != "" || cfg.Architecture != "" {
		sub.Platform = (&v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}).String()
	}
	s := &sbom.SBOM{SchemaVersion: sbom.SchemaVersion, Tool: Tool, Subject: sub}
	f, err := os.Open(p.BinaryFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bin, err := gobinary.Read(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", describe(p.BinaryPath), err)
	}
	if bin != nil {
		comps, rels, warn := gobinary.Components(p.BinaryPath, p.BinaryLayer, bin)
		s.Components, s.Relationships = comps, rels
		if warn != "" {
			s.Warnings = append(s.Warnings, sbom.Warning{Path: p.BinaryPath, Layer: p.BinaryLayer, Message: warn})
		}
	}
	contain(s)
	s.Sort()
	return s, nil
}

var _ build.Attacher = SBOMAttacher{}
