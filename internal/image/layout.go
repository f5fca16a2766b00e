package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations that name an image inside a layout's index.json.
const (
	annotationRefName        = "org.opencontainers.image.ref.name"
	annotationContainerdName = "io.containerd.image.name"
)

// maxIndexDepth bounds nested indexes; real ones nest once.
const maxIndexDepth = 4

// openLayout reads an OCI image layout from s. ref, when not empty, picks
// the manifest whose ref-name annotation matches.
func openLayout(s store, ref string, o *Options) (*Image, error) {
	lim := o.Limits.withDefaults()
	if _, err := readBlob(s, "oci-layout", 1<<16, v1.Hash{}); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("not an OCI image layout: no oci-layout file")
		}
		return nil, fmt.Errorf("oci-layout: %w", err)
	}
	raw, err := readBlob(s, "index.json", lim.MetadataBytes, v1.Hash{})
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	cands := idx.Manifests
	if ref != "" {
		cands = nil
		var names []string
		for _, d := range idx.Manifests {
			n := refName(d)
			names = append(names, n)
			if n == ref || strings.HasSuffix(n, ":"+ref) {
				cands = append(cands, d)
			}
		}
		if len(cands) == 0 {
			return nil, fmt.Errorf("no image named %q in index.json (it has: %s)", ref, listNames(names))
		}
	}
	desc, err := pickDescriptor(s, cands, o.platform(), lim, 0)
	if err != nil {
		return nil, err
	}
	return layoutImage(s, desc, lim)
}

func refName(d v1.Descriptor) string {
	if n := d.Annotations[annotationRefName]; n != "" {
		return n
	}
	return d.Annotations[annotationContainerdName]
}

func listNames(names []string) string {
	var out []string
	for _, n := range names {
		if n == "" {
			n = "(unnamed)"
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

// pickDescriptor walks indexes down to one image manifest for the platform.
func pickDescriptor(s store, cands []v1.Descriptor, want v1.Platform, lim Limits, depth int) (v1.Descriptor, error) {
	if depth > maxIndexDepth {
		return v1.Descriptor{}, fmt.Errorf("indexes nest deeper than %d levels (a loop?)", maxIndexDepth)
	}
	d, err := PickManifest(cands, want)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if !d.MediaType.IsIndex() {
		return d, nil
	}
	name, err := blobPath(d.Digest)
	if err != nil {
		return v1.Descriptor{}, err
	}
	raw, err := readBlob(s, name, lim.MetadataBytes, d.Digest)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("index %s: %w", d.Digest, err)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("index %s: %w", d.Digest, err)
	}
	return pickDescriptor(s, idx.Manifests, want, lim, depth+1)
}

// PickManifest chooses among the descriptors of an index: the only one if
// there is one, else the one for the platform. Attestation manifests
// (platform unknown/unknown) never match.
func PickManifest(cands []v1.Descriptor, want v1.Platform) (v1.Descriptor, error) {
	var usable []v1.Descriptor
	for _, d := range cands {
		if d.MediaType.IsImage() || d.MediaType.IsIndex() || d.MediaType == "" {
			if d.Platform != nil && d.Platform.OS == "unknown" {
				continue
			}
			// Referrers (an SBOM, a signature, VEX) are manifests too; their
			// artifactType says they are not images.
			if d.ArtifactType != "" && d.ArtifactType != string(types.OCIConfigJSON) && d.ArtifactType != string(types.DockerConfigJSON) {
				continue
			}
			usable = append(usable, d)
		}
	}
	if len(usable) == 0 {
		return v1.Descriptor{}, errors.New("the index lists no image manifest")
	}
	if len(usable) == 1 && (usable[0].Platform == nil || usable[0].MediaType.IsIndex()) {
		return usable[0], nil
	}
	var have []string
	for _, d := range usable {
		if d.Platform == nil {
			continue
		}
		have = append(have, d.Platform.String())
		if platformMatches(*d.Platform, want) {
			return d, nil
		}
	}
	if len(usable) == 1 {
		return v1.Descriptor{}, fmt.Errorf("no manifest for platform %s (the image has: %s); choose one with --platform", want.String(), strings.Join(have, ", "))
	}
	if len(have) == 0 {
		return v1.Descriptor{}, fmt.Errorf("the index lists %d images without platforms; name one (e.g. oci-archive:FILE:NAME)", len(usable))
	}
	return v1.Descriptor{}, fmt.Errorf("no manifest for platform %s (the image has: %s); choose one with --platform", want.String(), strings.Join(have, ", "))
}

// platformMatches compares os, architecture and, when asked for, variant.
// arm64's variant defaults to v8 as in the OCI image index spec.
func platformMatches(have, want v1.Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	if want.Variant == "" {
		return true
	}
	hv := have.Variant
	if hv == "" && have.Architecture == "arm64" {
		hv = "v8"
	}
	return hv == want.Variant
}

// layoutImage reads an image manifest and its config from s.
func layoutImage(s store, desc v1.Descriptor, lim Limits) (*Image, error) {
	name, err := blobPath(desc.Digest)
	if err != nil {
		return nil, err
	}
	raw, err := readBlob(s, name, lim.MetadataBytes, desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	img, err := imageFromManifest(m, func(h v1.Hash) ([]byte, error) {
		p, err := blobPath(h)
		if err != nil {
			return nil, err
		}
		return readBlob(s, p, lim.MetadataBytes, h)
	})
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	img.Digest = desc.Digest
	img.Name = refName(desc)
	img.referrers = layoutReferrers{s: s, lim: lim}
	if img.MediaType == "" {
		img.MediaType = desc.MediaType
	}
	for _, l := range img.Layers {
		l.open = func(context.Context) (io.ReadCloser, error) {
			p, err := blobPath(l.Digest)
			if err != nil {
				return nil, err
			}
			rc, size, err := s.open(p)
			if err != nil {
				return nil, err
			}
			if size != l.Size && l.Size >= 0 {
				rc.Close()
				if size < l.Size {
					return nil, fmt.Errorf("blob is %d bytes, the manifest says %d: %w", size, l.Size, ErrTruncated)
				}
				return nil, fmt.Errorf("blob is %d bytes, the manifest says %d", size, l.Size)
			}
			return rc, nil
		}
	}
	return img, nil
}

// imageFromManifest builds an Image from a manifest and a way to fetch its
// config; layer openers are left for the caller.
func imageFromManifest(m *v1.Manifest, fetch func(v1.Hash) ([]byte, error)) (*Image, error) {
	if m.Config.Size < 0 {
		return nil, fmt.Errorf("config size %d is negative", m.Config.Size)
	}
	raw, err := fetch(m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	img := &Image{Config: cfg, ConfigSize: int64(len(raw)), MediaType: m.MediaType}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("the manifest lists %d layers but the config has %d diff IDs", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	for i, d := range m.Layers {
		if !layerMediaType(d.MediaType) {
			return nil, fmt.Errorf("layer %d: media type %q is not a filesystem layer", i, d.MediaType)
		}
		if !validHash(d.Digest) {
			return nil, fmt.Errorf("layer %d: invalid digest %q", i, d.Digest)
		}
		img.Layers = append(img.Layers, &Layer{
			Index: i, Digest: d.Digest, DiffID: cfg.RootFS.DiffIDs[i],
			MediaType: d.MediaType, Size: d.Size,
		})
	}
	img.Platform = configPlatform(cfg)
	img.attachHistory()
	return img, nil
}

// parseConfig decodes an image config and checks what the pass relies on.
func parseConfig(raw []byte) (*v1.ConfigFile, error) {
	var cfg v1.ConfigFile
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	for i, d := range cfg.RootFS.DiffIDs {
		if !validHash(d) {
			return nil, fmt.Errorf("diff ID %d: invalid digest %q", i, d)
		}
	}
	return &cfg, nil
}

func configPlatform(cfg *v1.ConfigFile) *v1.Platform {
	if cfg.OS == "" && cfg.Architecture == "" {
		return nil
	}
	return &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
}

// layerMediaType accepts the tar layer types of OCI and Docker, compressed
// or not, and foreign (non-distributable) layers.
func layerMediaType(mt types.MediaType) bool {
	return slices.Contains([]types.MediaType{
		types.OCILayer, types.OCIUncompressedLayer, types.OCILayerZStd,
		types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer,
		types.DockerLayer, types.DockerForeignLayer, types.DockerUncompressedLayer,
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	}, mt)
}
