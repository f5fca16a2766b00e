package build

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/redline-go/redline/internal/image"
)

// baseImage is a base given by reference, opened for one platform.
type baseImage struct {
	// Ref is the base as given, with its scheme.
	Ref string
	// Name is org.opencontainers.image.base.name: the registry reference
	// for registry bases, else the ref.
	Name   string
	Image  v1.Image
	Digest v1.Hash
}

// baseRef is a parsed --base value.
type baseRef struct {
	scheme image.Scheme
	value  string
}

func (r baseRef) String() string { return string(r.scheme) + ":" + r.value }

// parseBase checks the syntax of a --base image reference. Bare
// references are registry references: build bases are pulled or read from
// files, never taken from a local engine (redline needs no daemon).
func parseBase(s string) (baseRef, error) {
	for _, sc := range []image.Scheme{image.Registry, image.OCIDir, image.OCIArchive, image.DockerArchive} {
		if v, ok := strings.CutPrefix(s, string(sc)+":"); ok {
			if v == "" {
				return baseRef{}, fmt.Errorf("--base %s: nothing after the scheme", s)
			}
			return baseRef{sc, v}, nil
		}
	}
	for _, sc := range []image.Scheme{image.Docker, image.Podman, image.Dir, image.File, image.GoSource} {
		if strings.HasPrefix(s, string(sc)+":") {
			return baseRef{}, fmt.Errorf("--base %s: a build base is read from a registry or an archive, not from %s: (save it first, e.g. `podman save --format oci-archive -o base.tar NAME`, then --base oci-archive:base.tar)", s, sc)
		}
	}
	if fi, err := os.Stat(s); err == nil {
		t, err := image.ParseTarget(s)
		if err != nil {
			return baseRef{}, fmt.Errorf("--base %s: %w", s, err)
		}
		switch t.Scheme {
		case image.OCIDir, image.OCIArchive, image.DockerArchive:
			return baseRef{t.Scheme, s}, nil
		}
		kind := "file"
		if fi.IsDir() {
			kind = "directory"
		}
		return baseRef{}, fmt.Errorf("--base %s: this %s is not an image (%s)", s, kind, t.Why)
	}
	if _, err := name.ParseReference(s); err != nil {
		return baseRef{}, fmt.Errorf("--base %s: not a file, nor an image reference: %v", s, err)
	}
	return baseRef{image.Registry, s}, nil
}

// openBase opens the base for platform p and checks that it is built for
// it.
func (b *Builder) openBase(ctx context.Context, r baseRef, p v1.Platform) (*baseImage, error) {
	bi, err := b.openBase0(ctx, r, p)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", r, err)
	}
	cfg, err := bi.Image.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base %s: reading its config: %w", r, err)
	}
	have := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	if !platformFits(have, p) {
		return nil, fmt.Errorf("base %s is an image for %s, and this build is for %s: pick a base for %s (or an index that has it), or change --platform", r, have, p, p)
	}
	if bi.Digest, err = bi.Image.Digest(); err != nil {
		return nil, fmt.Errorf("base %s: %w", r, err)
	}
	if _, err := bi.Image.Layers(); err != nil {
		return nil, fmt.Errorf("base %s: %w", r, err)
	}
	return bi, nil
}

func platformFits(have, want v1.Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	return have.Variant == "" || want.Variant == "" || have.Variant == want.Variant
}

func (b *Builder) openBase0(ctx context.Context, r baseRef, p v1.Platform) (*baseImage, error) {
	bi := &baseImage{Ref: r.String(), Name: r.String()}
	switch r.scheme {
	case image.Registry:
		var opts []name.Option
		if ref, err := name.ParseReference(r.value); err == nil && slices.Contains(b.o.Insecure, ref.Context().RegistryStr()) {
			opts = append(opts, name.Insecure)
		}
		ref, err := name.ParseReference(r.value, opts...)
		if err != nil {
			return nil, err
		}
		bi.Name = ref.Name()
		desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(b.o.Keychain), remote.WithPlatform(p))
		if err != nil {
			return nil, err
		}
		if desc.MediaType.IsIndex() {
			idx, err := desc.ImageIndex()
			if err != nil {
				return nil, err
			}
			bi.Image, err = imageFromIndex(idx, p)
			if err != nil {
				return nil, err
			}
			return bi, nil
		}
		bi.Image, err = desc.Image()
		return bi, err
	case image.DockerArchive:
		file, tag := splitSuffixRef(r.value, func(s string) bool { fi, err := os.Stat(s); return err == nil && fi.Mode().IsRegular() })
		var t *name.Tag
		if tag != "" {
			tt, err := name.NewTag(tag)
			if err != nil {
				return nil, err
			}
			t = &tt
		}
		img, err := tarball.ImageFromPath(file, t)
		if err != nil {
			return nil, err
		}
		bi.Image = img
		return bi, nil
	case image.OCIArchive:
		file, ref := splitSuffixRef(r.value, func(s string) bool { fi, err := os.Stat(s); return err == nil && fi.Mode().IsRegular() })
		dir, ok := b.extracted[file]
		if !ok {
			dir = filepath.Join(b.work, fmt.Sprintf("base-%d", len(b.extracted)))
			if err := extractLayout(file, dir); err != nil {
				return nil, err
			}
			if b.extracted == nil {
				b.extracted = map[string]string{}
			}
			b.extracted[file] = dir
		}
		img, err := imageFromLayout(dir, ref, p)
		if err != nil {
			return nil, err
		}
		bi.Image = img
		return bi, nil
	case image.OCIDir:
		dir, ref := splitSuffixRef(r.value, func(s string) bool { fi, err := os.Stat(s); return err == nil && fi.IsDir() })
		img, err := imageFromLayout(dir, ref, p)
		if err != nil {
			return nil, err
		}
		bi.Image = img
		return bi, nil
	}
	return nil, fmt.Errorf("unsupported base scheme %q", r.scheme)
}

// splitSuffixRef splits "PATH[:REF]": the longest prefix that exists is the
// path, the rest names an image in it.
func splitSuffixRef(v string, exists func(string) bool) (string, string) {
	if exists(v) {
		return v, ""
	}
	for i := len(v) - 1; i > 0; i-- {
		if v[i] == ':' && exists(v[:i]) {
			return v[:i], v[i+1:]
		}
	}
	return v, ""
}

// imageFromLayout picks the image for p from an OCI layout: by its
// ref.name annotation when ref is given, through nested indexes.
func imageFromLayout(dir, ref string, p v1.Platform) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		return imageFromIndex(idx, p)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] != ref {
			continue
		}
		if d.MediaType.IsIndex() {
			sub, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			return imageFromIndex(sub, p)
		}
		return idx.Image(d.Digest)
	}
	return nil, fmt.Errorf("no image named %q in %s", ref, dir)
}

// imageFromIndex picks the manifest for p, descending into nested indexes.
func imageFromIndex(idx v1.ImageIndex, p v1.Platform) (v1.Image, error) {
	for depth := 0; depth < 4; depth++ {
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		var cands []v1.Descriptor
		for _, d := range im.Manifests {
			if d.MediaType.IsImage() || d.MediaType.IsIndex() {
				cands = append(cands, d)
			}
		}
		d, err := image.PickManifest(cands, p)
		if err != nil {
			return nil, err
		}
		if !d.MediaType.IsIndex() {
			return idx.Image(d.Digest)
		}
		if idx, err = idx.ImageIndex(d.Digest); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("indexes nested too deep")
}

// extractLayout unpacks the OCI layout of an archive into dir, taking only
// the names a layout has (oci-layout, index.json, blobs/ALG/HEX).
func extractLayout(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", file, err)
		}
		n := strings.TrimPrefix(h.Name, "./")
		if h.Typeflag != tar.TypeReg || !layoutName(n) {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if n == "index.json" {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%s holds no OCI layout (no index.json)", file)
	}
	return nil
}

func layoutName(n string) bool {
	switch n {
	case "oci-layout", "index.json":
		return true
	}
	parts := strings.Split(n, "/")
	if len(parts) != 3 || parts[0] != "blobs" {
		return false
	}
	for _, s := range parts[1:] {
		if s == "" || s == "." || s == ".." {
			return false
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}
