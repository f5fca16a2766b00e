package build

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Attacher produces artifacts about a built image, attached to it as OCI
// 1.1 referrers (DESIGN.md, "Attachments"). This is the hook of issue 4:
// `redline build` attaching the SBOM of what it built.
//
// Build calls each attacher once the image is assembled and staged in a
// local OCI layout, before any destination is written; an error fails the
// build and nothing is written. The attachments then travel with every
// destination: as referrer manifests (subject = the image) in oci-dir and
// oci-archive layouts and registries (through the referrers API or the
// sha256-<digest> tag fallback), and as sibling files NAME+Suffix next to a
// docker-archive NAME.tar.
type Attacher interface {
	Attach(ctx context.Context, img *Built) ([]Attachment, error)
}

// Built is what an [Attacher] sees of the image.
type Built struct {
	// Layout is an OCI layout directory holding the image:
	// image.Open(ctx, image.Target{Scheme: image.OCIDir, Value: Layout}, ...)
	// reads it (the one pass over its layers).
	Layout string
	// Digest and MediaType name the top of the image: the index when there
	// are several platforms, else the image manifest.
	Digest    v1.Hash
	MediaType types.MediaType
	// Platforms hold each platform's image and binary.
	Platforms []BuiltPlatform
	// Tag names the image in the layout (its ref.name annotation).
	Tag string
	// BaseImage is true when the image builds on a --base image, whose
	// layers redline did not write; false for the static and scratch bases,
	// whose only file an SBOM cataloger reads is the binary.
	BaseImage bool
	// Version is the main module's version as recorded in the labels.
	Version string
	// Labels are the dev.redline.* and OCI labels of the config.
	Labels map[string]string
}

// BuiltPlatform is one platform's image.
type BuiltPlatform struct {
	Platform v1.Platform
	Image    v1.Image
	Digest   v1.Hash
	// BinaryFile is the built binary on disk (valid until the builder is
	// closed); BinaryPath where it is in the image; BinaryLayer the index
	// of the layer that holds it.
	BinaryFile, BinaryPath string
	BinaryLayer            int
}

// Attachment is one artifact to attach.
type Attachment struct {
	// ArtifactType is the referrer's artifactType, e.g.
	// "application/vnd.cyclonedx+json".
	ArtifactType string
	// MediaType is the blob's media type; default ArtifactType.
	MediaType types.MediaType
	Data      []byte
	// Platform, when set ("linux/amd64"), makes that platform's image the
	// subject; by default the subject is the top of the image.
	Platform string
	// Suffix names the sibling file written next to a docker archive
	// (".cdx.json" gives NAME.cdx.json); empty: none.
	Suffix string
	// Annotations of the referrer manifest.
	Annotations map[string]string
}

// referrer is an attachment made into a manifest.
type referrer struct {
	artifactType string
	image        v1.Image
	digest       v1.Hash
}

// emptyConfig is the OCI 1.1 empty descriptor's content.
var emptyConfig = []byte("{}")

// makeReferrer builds the artifact manifest: empty config, one layer with
// the data, the subject.
func makeReferrer(a Attachment, subject v1.Descriptor, created string) (*referrer, error) {
	if a.ArtifactType == "" || !strings.Contains(a.ArtifactType, "/") {
		return nil, fmt.Errorf("attachment: artifact type %q is not a media type", a.ArtifactType)
	}
	mt := a.MediaType
	if mt == "" {
		mt = types.MediaType(a.ArtifactType)
	}
	layer := static.NewLayer(a.Data, mt)
	ld, err := layerDescriptor(layer, mt)
	if err != nil {
		return nil, err
	}
	cfgHash, cfgSize, err := v1.SHA256(strings.NewReader(string(emptyConfig)))
	if err != nil {
		return nil, err
	}
	ann := map[string]string{AnnotationCreated: created}
	maps.Copy(ann, a.Annotations)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  a.ArtifactType,
		Config:        v1.Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Size: cfgSize, Digest: cfgHash, Data: emptyConfig},
		Layers:        []v1.Descriptor{ld},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest},
		Annotations:   ann,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	img, err := partial.CompressedToImage(&builtImage{
		rawConfig:   emptyConfig,
		rawManifest: raw,
		mediaType:   types.OCIManifestSchema1,
		layers:      map[v1.Hash]partial.CompressedLayer{ld.Digest: layer},
	})
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	return &referrer{artifactType: a.ArtifactType, image: img, digest: d}, nil
}
