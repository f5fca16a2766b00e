package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// openRegistry reads the manifest and config of ref from its registry. The
// layers are not fetched here: each layer's opener streams its blob when
// [Walk] reaches it.
func openRegistry(ctx context.Context, ref string, o *Options) (*Image, error) {
	r, err := parseRegistryRef(ref, o.Insecure)
	if err != nil {
		return nil, err
	}
	lim := o.Limits.withDefaults()
	want := o.platform()
	// One Puller authenticates once per repository and is reused for the
	// manifests, the config and every layer. remote's retry defaults apply.
	p, err := remote.NewPuller(
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.keychain()),
		remote.WithPlatform(want),
	)
	if err != nil {
		return nil, err
	}
	desc, err := fetchManifest(ctx, p, r, -1, lim)
	if err != nil {
		return nil, err
	}
	var chosen *v1.Descriptor // the index entry picked, if ref is an index
	for depth := 0; ; depth++ {
		kind, err := manifestKind(desc)
		if err != nil {
			return nil, err
		}
		if kind == kindImage {
			break
		}
		if depth >= maxIndexDepth {
			return nil, fmt.Errorf("indexes nest deeper than %d levels (a loop?)", maxIndexDepth)
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		d, err := PickManifest(idx.Manifests, want)
		if err != nil {
			return nil, err
		}
		if !validHash(d.Digest) {
			return nil, fmt.Errorf("index %s: invalid digest %q", desc.Digest, d.Digest)
		}
		if d.Size < 0 {
			return nil, fmt.Errorf("index %s: manifest %s has a negative size", desc.Digest, d.Digest)
		}
		desc, err = fetchManifest(ctx, p, r.Context().Digest(d.Digest.String()), d.Size, lim)
		if err != nil {
			return nil, err
		}
		if int64(len(desc.Manifest)) != d.Size {
			return nil, fmt.Errorf("manifest %s is %d bytes, the index says %d", d.Digest, len(desc.Manifest), d.Size)
		}
		chosen = &d
	}

	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	repo := r.Context()
	img, err := imageFromManifest(m, func(h v1.Hash) ([]byte, error) {
		if m.Config.Size > lim.MetadataBytes {
			return nil, &LimitError{Limit: fmt.Sprintf("metadata bytes (%d)", m.Config.Size), Value: lim.MetadataBytes, Flag: "--max-metadata-bytes"}
		}
		return fetchSmallBlob(ctx, p, repo, h, lim.MetadataBytes)
	})
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	img.Digest = desc.Digest
	img.Name = ref
	if img.MediaType == "" {
		img.MediaType = desc.MediaType
	}
	if chosen != nil && chosen.Platform != nil {
		plat := *chosen.Platform
		img.Platform = &plat
	}
	for _, l := range img.Layers {
		dg := repo.Digest(l.Digest.String())
		l.open = func(ctx context.Context) (io.ReadCloser, error) {
			rl, err := p.Layer(ctx, dg)
			if err != nil {
				return nil, err
			}
			rc, err := rl.Compressed()
			if err != nil {
				return nil, err
			}
			return remoteBlob{rc}, nil
		}
	}
	return img, nil
}

// parseRegistryRef parses ref, reaching its registry over plain HTTP only
// when the registry is listed in insecure.
func parseRegistryRef(ref string, insecure []string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("not an image reference: %w", err)
	}
	host := r.Context().RegistryStr()
	for _, h := range insecure {
		norm := h
		if reg, err := name.NewRegistry(h); err == nil {
			norm = reg.RegistryStr()
		}
		if h == host || norm == host {
			return name.ParseReference(ref, name.Insecure)
		}
	}
	return r, nil
}

// fetchManifest fetches a manifest or index, refusing it before the fetch
// when its size is over the limit: size comes from the index entry that
// names it, or for the top reference (size < 0) from a HEAD request.
func fetchManifest(ctx context.Context, p *remote.Puller, ref name.Reference, size int64, lim Limits) (*remote.Descriptor, error) {
	if size < 0 {
		// A failed HEAD carries no error body; the GET below reports it.
		if d, err := p.Head(ctx, ref); err == nil {
			size = d.Size
		}
	}
	if size > lim.MetadataBytes {
		return nil, manifestLimitError(ref, size, lim)
	}
	d, err := p.Get(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("fetching manifest: %w", err)
	}
	if int64(len(d.Manifest)) > lim.MetadataBytes {
		return nil, manifestLimitError(ref, int64(len(d.Manifest)), lim)
	}
	return d, nil
}

func manifestLimitError(ref name.Reference, size int64, lim Limits) error {
	return fmt.Errorf("manifest %s: %w", ref.Identifier(), &LimitError{Limit: fmt.Sprintf("metadata bytes (%d)", size), Value: lim.MetadataBytes, Flag: "--max-metadata-bytes"})
}

type manifestKindT int

const (
	kindImage manifestKindT = iota
	kindIndex
)

// manifestKind tells an image manifest from an index by the media type the
// registry sent, or when that is missing or generic by the document's own
// mediaType field and shape (some static registries send no usable
// Content-Type).
func manifestKind(d *remote.Descriptor) (manifestKindT, error) {
	mt := d.MediaType
	switch {
	case mt == types.DockerManifestSchema1 || mt == types.DockerManifestSchema1Signed:
		return 0, fmt.Errorf("manifest %s is a Docker schema 1 manifest, which is not supported (push the image again with a current tool)", d.Digest)
	case mt.IsIndex():
		return kindIndex, nil
	case mt.IsImage():
		return kindImage, nil
	}
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(d.Manifest, &probe); err != nil {
		return 0, fmt.Errorf("manifest %s (media type %q): %w", d.Digest, mt, err)
	}
	switch {
	case probe.MediaType.IsIndex():
		return kindIndex, nil
	case probe.MediaType.IsImage():
		return kindImage, nil
	case probe.MediaType == "" && probe.Manifests != nil:
		return kindIndex, nil
	case probe.MediaType == "" && probe.Config != nil:
		return kindImage, nil
	}
	if mt == "" {
		mt = probe.MediaType
	}
	return 0, fmt.Errorf("manifest %s: media type %q is neither an image nor an index", d.Digest, mt)
}

// fetchSmallBlob reads a config blob whole, bounded by max, and checks its
// digest.
func fetchSmallBlob(ctx context.Context, p *remote.Puller, repo name.Repository, h v1.Hash, max int64) ([]byte, error) {
	l, err := p.Layer(ctx, repo.Digest(h.String()))
	if err != nil {
		return nil, fmt.Errorf("fetching: %w", err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(remoteBlob{rc}, max+1))
	if err != nil {
		return nil, fmt.Errorf("fetching: %w", err)
	}
	if int64(len(b)) > max {
		return nil, &LimitError{Limit: "metadata bytes", Value: max, Flag: "--max-metadata-bytes"}
	}
	if err := checkDigest(b, h); err != nil {
		return nil, err
	}
	return b, nil
}

// remoteBlob passes a blob from go-containerregistry through unchanged but
// for one thing. remote checks a blob's digest and size when the stream
// ends and reports a mismatch with an error type from its internal package,
// which no caller can test for. Every reader of these blobs here ([Walk],
// fetchSmallBlob) hashes and counts the bytes itself and reports a mismatch
// as *DigestError, so remote's report becomes a plain end of stream and the
// typed one surfaces. The test of a corrupt registry blob guards the match
// on the message.
type remoteBlob struct{ io.ReadCloser }

func (b remoteBlob) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && strings.HasPrefix(err.Error(), "error verifying ") {
		err = io.EOF
	}
	return n, err
}
