package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerManifest is one entry of a docker-archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// splitArchiveRef splits "FILE[:NAME]" where FILE exists. Paths may hold
// colons, so the longest existing prefix wins.
func splitArchiveRef(v string) (file, ref string, err error) {
	if fi, err := os.Stat(v); err == nil && !fi.IsDir() {
		return v, "", nil
	}
	for i := len(v) - 1; i > 0; i-- {
		if v[i] != ':' {
			continue
		}
		if fi, err := os.Stat(v[:i]); err == nil && !fi.IsDir() {
			return v[:i], v[i+1:], nil
		}
	}
	if _, err := os.Stat(v); err != nil {
		return "", "", err
	}
	return "", "", fmt.Errorf("%s: is a directory, want an archive file", v)
}

// openDockerArchive reads the format of `docker save` and `podman save`.
func openDockerArchive(file, ref string, o *Options) (*Image, error) {
	s, err := openTarStore(file)
	if err != nil {
		return nil, err
	}
	img, err := dockerArchiveImage(s, ref, o)
	if err != nil {
		s.Close()
		return nil, err
	}
	img.closers = append(img.closers, s)
	return img, nil
}

func dockerArchiveImage(s *tarStore, ref string, o *Options) (*Image, error) {
	lim := o.Limits.withDefaults()
	raw, err := readBlob(s, "manifest.json", lim.MetadataBytes, v1.Hash{})
	if err != nil {
		return nil, err
	}
	var ms []dockerManifest
	if err := json.Unmarshal(raw, &ms); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	m, err := pickDockerManifest(ms, ref)
	if err != nil {
		return nil, err
	}
	cfgDigest, _ := digestFromPath(m.Config)
	cfgRaw, err := readBlob(s, m.Config, lim.MetadataBytes, cfgDigest)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := parseConfig(cfgRaw)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest.json lists %d layers but the config has %d diff IDs", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	img := &Image{Config: cfg, ConfigSize: int64(len(cfgRaw)), Platform: configPlatform(cfg)}
	if len(m.RepoTags) > 0 {
		img.Name = m.RepoTags[0]
	}
	if ref != "" {
		img.Name = ref
	}
	for i, p := range m.Layers {
		rc, size, err := s.open(p)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, p, err)
		}
		var magic [4]byte
		n, _ := io.ReadFull(rc, magic[:])
		rc.Close()
		l := &Layer{Index: i, DiffID: cfg.RootFS.DiffIDs[i], Size: size}
		switch sniffCompression(magic[:n]) {
		case compGzip:
			l.MediaType = types.DockerLayer
		case compZstd:
			l.MediaType = types.OCILayerZStd
		default:
			l.MediaType = types.DockerUncompressedLayer
			// An uncompressed blob's digest is its diff ID.
			l.Digest = l.DiffID
		}
		if d, ok := digestFromPath(p); ok {
			l.Digest = d
		}
		p := p
		l.open = func(context.Context) (io.ReadCloser, error) {
			rc, _, err := s.open(p)
			return rc, err
		}
		img.Layers = append(img.Layers, l)
	}
	img.attachHistory()
	return img, nil
}

func pickDockerManifest(ms []dockerManifest, ref string) (dockerManifest, error) {
	if len(ms) == 0 {
		return dockerManifest{}, fmt.Errorf("manifest.json lists no image")
	}
	var tags []string
	for _, m := range ms {
		tags = append(tags, m.RepoTags...)
	}
	if ref == "" {
		if len(ms) == 1 {
			return ms[0], nil
		}
		return dockerManifest{}, fmt.Errorf("the archive holds %d images; name one as docker-archive:FILE:TAG (tags: %s)", len(ms), listNames(tags))
	}
	if strings.HasPrefix(ref, "@") {
		var i int
		if _, err := fmt.Sscanf(ref, "@%d", &i); err != nil || i < 0 || i >= len(ms) {
			return dockerManifest{}, fmt.Errorf("image index %q: the archive holds %d images (@0..@%d)", ref, len(ms), len(ms)-1)
		}
		return ms[i], nil
	}
	for _, m := range ms {
		for _, t := range m.RepoTags {
			if t == ref || strings.TrimPrefix(t, "docker.io/library/") == ref || strings.TrimPrefix(t, "localhost/") == ref || t == ref+":latest" {
				return m, nil
			}
		}
	}
	return dockerManifest{}, fmt.Errorf("no image tagged %q in the archive (tags: %s)", ref, listNames(tags))
}

// digestFromPath recognises the content-addressed names used inside
// archives: "blobs/sha256/HEX" (docker 25+, OCI) and "HEX.json" (older
// docker configs).
func digestFromPath(p string) (v1.Hash, bool) {
	p = strings.TrimPrefix(p, "./")
	if rest, ok := strings.CutPrefix(p, "blobs/"); ok {
		alg, hex, ok := strings.Cut(rest, "/")
		h := v1.Hash{Algorithm: alg, Hex: hex}
		if ok && validHash(h) {
			return h, true
		}
		return v1.Hash{}, false
	}
	if hex, ok := strings.CutSuffix(p, ".json"); ok && len(hex) == 64 && !strings.Contains(hex, "/") {
		h := v1.Hash{Algorithm: "sha256", Hex: hex}
		if validHash(h) {
			return h, true
		}
	}
	return v1.Hash{}, false
}

type compression int

const (
	compNone compression = iota
	compGzip
	compZstd
)

func (c compression) String() string {
	return [...]string{"none", "gzip", "zstd"}[c]
}

// sniffCompression reads the magic number; media types lie too often
// (docker-archive has none, some registries mislabel zstd) to trust them.
func sniffCompression(b []byte) compression {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return compGzip
	case len(b) >= 4 && slices.Equal(b[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return compZstd
	}
	return compNone
}
