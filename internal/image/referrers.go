package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultMaxReferrerBytes bounds what [Referrer.Read] reads of an
// attachment unless told otherwise: 1 MiB, ample for a VEX document or an
// SBOM summary, small enough that a hostile referrer costs nothing.
const DefaultMaxReferrerBytes = 1 << 20

// emptyConfigType is the config media type of OCI artifacts.
const emptyConfigType = "application/vnd.oci.empty.v1+json"

// maxReferrerCandidates bounds the manifests of a layout looked at for
// referrers.
const maxReferrerCandidates = 10000

// Referrer is an artifact attached to an image: an OCI 1.1 manifest whose
// subject is the image's manifest or an index that lists it (DESIGN.md,
// "Attachments").
type Referrer struct {
	// Digest names the referrer manifest; ArtifactType and Annotations
	// are its own (the artifact type falls back to the config's media
	// type, as the OCI spec says).
	Digest       v1.Hash
	ArtifactType string
	Annotations  map[string]string
	// Subject is the digest the referrer is about: the image manifest, or
	// an index that lists it.
	Subject v1.Hash
	// Blob is the artifact's one layer; zero when the manifest has none
	// or several.
	Blob v1.Descriptor
	// Err is why the referrer could not be read (a manifest that is
	// malformed, too large or missing); [Referrer.Read] returns it.
	Err error

	layers int
	read   func(ctx context.Context, d v1.Descriptor, max int64) ([]byte, error)
}

// Read returns the artifact's content, its single layer, checked against
// its digest and bounded by max bytes ([DefaultMaxReferrerBytes] when max
// <= 0); larger content is a *[LimitError].
func (r *Referrer) Read(ctx context.Context, max int64) ([]byte, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	if r.layers != 1 {
		return nil, fmt.Errorf("referrer %s: %d layers, want the artifact as one", r.Digest, r.layers)
	}
	if max <= 0 {
		max = DefaultMaxReferrerBytes
	}
	if r.Blob.Size > max {
		return nil, fmt.Errorf("referrer %s: %w", r.Digest, &LimitError{Limit: fmt.Sprintf("attachment bytes (%d)", r.Blob.Size), Value: max, Flag: "--max-referrer-bytes"})
	}
	if r.Blob.Size < 0 || !validHash(r.Blob.Digest) {
		return nil, fmt.Errorf("referrer %s: invalid layer descriptor", r.Digest)
	}
	b, err := r.read(ctx, r.Blob, max)
	if err != nil {
		return nil, fmt.Errorf("referrer %s: %w", r.Digest, err)
	}
	return b, nil
}

// Referrers lists the artifacts attached to the image with artifactType
// (every type when empty), from the sources that keep attachments: OCI
// layouts (oci-dir:, oci-archive:), whose index lists referrer manifests
// beside the image, and registries (the referrers API, or its
// sha256-DIGEST tag fallback). The subject may be the image's manifest or
// an index that lists it (a multi-platform image). Other sources keep none:
// nil, nil. A referrer that cannot be read is listed with Err set, so that
// the caller can say so; an error means the listing itself failed. Call it
// before [Image.Close].
func (img *Image) Referrers(ctx context.Context, artifactType string) ([]Referrer, error) {
	if img.referrers == nil || img.Digest.Hex == "" {
		return nil, nil
	}
	return img.referrers.referrers(ctx, img, artifactType)
}

// referrerSource lists referrers where the image came from.
type referrerSource interface {
	referrers(ctx context.Context, img *Image, artifactType string) ([]Referrer, error)
}

// referrerManifest is what is read of a candidate manifest.
type referrerManifest struct {
	ArtifactType string            `json:"artifactType"`
	Config       v1.Descriptor     `json:"config"`
	Layers       []v1.Descriptor   `json:"layers"`
	Subject      *v1.Descriptor    `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

func (m *referrerManifest) artifactType() string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return string(m.Config.MediaType)
}

// makeReferrer turns a manifest into a Referrer.
func makeReferrer(d v1.Descriptor, m *referrerManifest, read func(context.Context, v1.Descriptor, int64) ([]byte, error)) Referrer {
	r := Referrer{Digest: d.Digest, ArtifactType: m.artifactType(), Annotations: m.Annotations, Subject: m.Subject.Digest, layers: len(m.Layers), read: read}
	if len(m.Layers) == 1 {
		r.Blob = m.Layers[0]
	}
	return r
}

// layoutReferrers finds referrers in an OCI layout's index.
type layoutReferrers struct {
	s   store
	lim Limits
}

func (l layoutReferrers) referrers(ctx context.Context, img *Image, artifactType string) ([]Referrer, error) {
	raw, err := readBlob(l.s, "index.json", l.lim.MetadataBytes, v1.Hash{})
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	// Every descriptor of the layout, nested indexes included, and which
	// index lists which: the subjects are the image and the indexes that
	// lead to it.
	var all []v1.Descriptor
	parents := map[v1.Hash][]v1.Hash{}
	walked := map[v1.Hash]bool{}
	var walk func(ds []v1.Descriptor, parent v1.Hash, depth int) error
	walk = func(ds []v1.Descriptor, parent v1.Hash, depth int) error {
		for _, d := range ds {
			if len(all) >= maxReferrerCandidates {
				return nil
			}
			all = append(all, d)
			if parent.Hex != "" {
				parents[d.Digest] = append(parents[d.Digest], parent)
			}
			if !d.MediaType.IsIndex() || depth >= maxIndexDepth || !validHash(d.Digest) || walked[d.Digest] {
				continue
			}
			walked[d.Digest] = true
			name, _ := blobPath(d.Digest)
			raw, err := readBlob(l.s, name, l.lim.MetadataBytes, d.Digest)
			if err != nil {
				return fmt.Errorf("index %s: %w", d.Digest, err)
			}
			sub, err := v1.ParseIndexManifest(bytes.NewReader(raw))
			if err != nil {
				return fmt.Errorf("index %s: %w", d.Digest, err)
			}
			if err := walk(sub.Manifests, d.Digest, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(idx.Manifests, v1.Hash{}, 0); err != nil {
		return nil, err
	}
	subjects := map[v1.Hash]bool{}
	var mark func(h v1.Hash, depth int)
	mark = func(h v1.Hash, depth int) {
		if subjects[h] || depth > maxIndexDepth {
			return
		}
		subjects[h] = true
		for _, p := range parents[h] {
			mark(p, depth+1)
		}
	}
	mark(img.Digest, 0)

	read := func(_ context.Context, d v1.Descriptor, max int64) ([]byte, error) {
		name, err := blobPath(d.Digest)
		if err != nil {
			return nil, err
		}
		b, err := readBlob(l.s, name, max, d.Digest)
		var le *LimitError
		if errors.As(err, &le) {
			le.Flag = "--max-referrer-bytes"
		}
		return b, err
	}
	var out []Referrer
	seen := map[v1.Hash]bool{}
	for _, d := range all {
		if subjects[d.Digest] || seen[d.Digest] || d.MediaType.IsIndex() || !validHash(d.Digest) {
			continue
		}
		seen[d.Digest] = true
		// The descriptor's artifactType, when the layout wrote one, spares
		// reading the manifests of other artifacts and of images.
		if d.ArtifactType != "" && artifactType != "" && d.ArtifactType != artifactType {
			continue
		}
		name, _ := blobPath(d.Digest)
		raw, err := readBlob(l.s, name, l.lim.MetadataBytes, d.Digest)
		var m referrerManifest
		if err == nil {
			err = json.Unmarshal(raw, &m)
		}
		if err != nil {
			if d.ArtifactType != "" && d.ArtifactType == artifactType {
				// Ours by its descriptor, but unreadable: say so.
				out = append(out, Referrer{Digest: d.Digest, ArtifactType: d.ArtifactType, Annotations: d.Annotations, Err: fmt.Errorf("referrer manifest %s: %w", d.Digest, err)})
			}
			continue
		}
		if m.Subject == nil || !subjects[m.Subject.Digest] {
			continue
		}
		if artifactType != "" && m.artifactType() != artifactType {
			continue
		}
		out = append(out, makeReferrer(d, &m, read))
	}
	return out, nil
}

// registryReferrers asks a registry: the referrers API, or the tag schema
// fallback (go-containerregistry tries both).
type registryReferrers struct {
	p   *remote.Puller
	ref name.Reference
	lim Limits
}

func (r registryReferrers) referrers(ctx context.Context, img *Image, artifactType string) ([]Referrer, error) {
	repo := r.ref.Context()
	subjects := []v1.Hash{img.Digest}
	if _, byDigest := r.ref.(name.Digest); !byDigest {
		// A tag may name an index holding the image: its referrers count
		// too.
		if d, err := r.p.Head(ctx, r.ref); err == nil && d.Digest != img.Digest {
			subjects = append(subjects, d.Digest)
		}
	} else if h, err := v1.NewHash(r.ref.Identifier()); err == nil && h != img.Digest {
		subjects = append(subjects, h)
	}
	read := func(ctx context.Context, d v1.Descriptor, max int64) ([]byte, error) {
		return fetchSmallBlob(ctx, r.p, repo, d.Digest, max)
	}
	var out []Referrer
	seen := map[v1.Hash]bool{}
	for _, subject := range subjects {
		// Unfiltered: some registries describe an artifact by its config's
		// media type even when the manifest has an artifactType (the
		// in-process registry of go-containerregistry does), which a
		// filter would drop; the manifests below say what they are.
		idx, err := remote.Referrers(repo.Digest(subject.String()), remote.Reuse(r.p), remote.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("referrers of %s: %w", subject, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("referrers of %s: %w", subject, err)
		}
		for _, d := range im.Manifests {
			if seen[d.Digest] || !validHash(d.Digest) {
				continue
			}
			seen[d.Digest] = true
			if artifactType != "" && d.ArtifactType != "" && d.ArtifactType != artifactType && d.ArtifactType != emptyConfigType {
				continue
			}
			desc, err := fetchManifest(ctx, r.p, repo.Digest(d.Digest.String()), d.Size, r.lim)
			var m referrerManifest
			if err == nil {
				err = checkDigest(desc.Manifest, d.Digest)
			}
			if err == nil {
				err = json.Unmarshal(desc.Manifest, &m)
			}
			if err != nil {
				if artifactType == "" || d.ArtifactType == artifactType {
					out = append(out, Referrer{Digest: d.Digest, ArtifactType: d.ArtifactType, Annotations: d.Annotations, Subject: subject, Err: fmt.Errorf("referrer manifest %s: %w", d.Digest, err)})
				}
				continue
			}
			// The tag fallback's list is written by clients: believe
			// only manifests that name the subject themselves.
			if m.Subject == nil || m.Subject.Digest != subject {
				continue
			}
			if artifactType != "" && m.artifactType() != artifactType {
				continue
			}
			out = append(out, makeReferrer(d, &m, read))
		}
	}
	return out, nil
}
