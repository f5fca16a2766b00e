package inventory

import (
	"bytes"
	"context"
	"fmt"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom/encode"
)

// ArtifactTypeCycloneDX is the artifactType of attached CycloneDX SBOMs.
const ArtifactTypeCycloneDX = "application/vnd.cyclonedx+json"

// SBOMAttacher attaches the CycloneDX SBOM of each platform's image to
// what `redline build` made, so later steps reuse it instead of
// cataloguing again (DESIGN.md, "Attachments"): a referrer in OCI layouts
// and registries, NAME.cdx.json beside a docker archive.
type SBOMAttacher struct {
	Image image.Options
	Pass  image.PassOptions
}

// Attach implements build.Attacher.
func (a SBOMAttacher) Attach(ctx context.Context, b *build.Built) ([]build.Attachment, error) {
	var out []build.Attachment
	for _, p := range b.Platforms {
		o := a.Image
		plat := p.Platform
		o.Platform = &plat
		s, err := Image(ctx, image.Target{Scheme: image.OCIDir, Value: b.Layout}, o, a.Pass)
		if err != nil {
			return nil, fmt.Errorf("SBOM of the built image (%s): %w", plat.String(), err)
		}
		// The image was read from a staging directory: name it by digest,
		// so the same build gives the same SBOM bytes.
		s.Subject.Ref = "oci:" + p.Digest.String()
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

var _ build.Attacher = SBOMAttacher{}
