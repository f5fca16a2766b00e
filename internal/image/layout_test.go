package image

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestPickManifestSkipsReferrers: an OCI layout holding an image and the
// SBOM attached to it opens as the image.
func TestPickManifestSkipsReferrers(t *testing.T) {
	img := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: "aa"}, ArtifactType: string(types.OCIConfigJSON)}
	sbom := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: "bb"}, ArtifactType: "application/vnd.cyclonedx+json"}
	d, err := PickManifest([]v1.Descriptor{img, sbom}, v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil || d.Digest != img.Digest {
		t.Fatalf("PickManifest = %v, %v; want the image", d.Digest, err)
	}
	if _, err := PickManifest([]v1.Descriptor{sbom}, v1.Platform{OS: "linux", Architecture: "amd64"}); err == nil {
		t.Fatal("a layout of only an SBOM opened as an image")
	}
}
