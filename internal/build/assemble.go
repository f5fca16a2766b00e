package build

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Label and annotation keys redline sets. The dev.redline.* keys record
// what the build promised; lint, check and guard read them.
const (
	LabelUser    = "dev.redline.user"    // "65532:65532"
	LabelCaps    = "dev.redline.caps"    // "CAP_NET_BIND_SERVICE,...", empty: none
	LabelGo      = "dev.redline.go"      // "go1.26.8"
	LabelFlags   = "dev.redline.flags"   // the hardened go build flags
	LabelVersion = "dev.redline.version" // the main module's version, "(devel)" if unknown
	LabelBinary  = "dev.redline.binary"  // "/usr/local/bin/NAME"
	LabelStatic  = "dev.redline.static"  // "true" unless --dynamic gave a dynamic binary
	LabelBase    = "dev.redline.base"    // "static", "scratch" or the base reference
	LabelVolumes = "dev.redline.volumes" // "/data,..." owned by the user

	AnnotationCreated    = "org.opencontainers.image.created"
	AnnotationSource     = "org.opencontainers.image.source"
	AnnotationRevision   = "org.opencontainers.image.revision"
	AnnotationVersion    = "org.opencontainers.image.version"
	AnnotationTitle      = "org.opencontainers.image.title"
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
	AnnotationRefName    = "org.opencontainers.image.ref.name"
)

func reservedKey(k string) bool {
	if strings.HasPrefix(k, "dev.redline.") {
		return true
	}
	switch k {
	case AnnotationCreated, AnnotationSource, AnnotationRevision, AnnotationVersion, AnnotationTitle,
		AnnotationBaseName, AnnotationBaseDigest, AnnotationRefName:
		return true
	}
	return false
}

// imageSpec is everything one platform's image is made of.
type imageSpec struct {
	Platform v1.Platform
	// Base is nil for the static and scratch bases.
	Base *baseImage
	// Layers are redline's own layers, after the base's.
	Layers  []*fileLayer
	Created time.Time
	// Config fields.
	User       string
	Entrypoint []string
	WorkDir    string
	Env        []string
	Ports      []string
	Volumes    []string
	// Labels go to the config, Annotations to the manifest.
	Labels, Annotations map[string]string
}

// builtImage is an image assembled from its parts; the raw config and
// manifest are computed once, so every write gives the same bytes.
type builtImage struct {
	rawConfig   []byte
	rawManifest []byte
	mediaType   types.MediaType
	layers      map[v1.Hash]partial.CompressedLayer
}

func (i *builtImage) RawConfigFile() ([]byte, error)      { return i.rawConfig, nil }
func (i *builtImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *builtImage) RawManifest() ([]byte, error)        { return i.rawManifest, nil }
func (i *builtImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("no layer %s in the built image", h)
}

// assemble makes the image: the base's config and layers (if any), then
// redline's layers, a config that replaces the base's entrypoint and
// command, and a manifest in the base's media type family (OCI for the
// static and scratch bases).
func assemble(s imageSpec) (v1.Image, error) {
	cfg := &v1.ConfigFile{}
	var baseLayers []v1.Layer
	manifestType, configType := types.OCIManifestSchema1, types.OCIConfigJSON
	if s.Base != nil {
		bc, err := s.Base.Image.ConfigFile()
		if err != nil {
			return nil, err
		}
		cfg = bc.DeepCopy()
		if baseLayers, err = s.Base.Image.Layers(); err != nil {
			return nil, err
		}
		mt, err := s.Base.Image.MediaType()
		if err != nil {
			return nil, err
		}
		if mt == types.DockerManifestSchema2 {
			manifestType, configType = types.DockerManifestSchema2, types.DockerConfigJSON
		}
	}
	created := v1.Time{Time: s.Created.UTC()}
	cfg.Created = created
	cfg.OS = s.Platform.OS
	cfg.Architecture = s.Platform.Architecture
	cfg.Variant = s.Platform.Variant
	cfg.OSVersion, cfg.OSFeatures = "", nil
	cfg.Author = ""
	cfg.Container, cfg.DockerVersion = "", ""

	c := &cfg.Config
	c.User = s.User
	c.Entrypoint = s.Entrypoint
	// The base's command would become arguments of the binary.
	c.Cmd = nil
	c.WorkingDir = s.WorkDir
	c.Env = mergeEnv(c.Env, s.Env)
	if len(s.Ports) > 0 {
		ports := map[string]struct{}{}
		maps.Copy(ports, c.ExposedPorts)
		for _, p := range s.Ports {
			ports[p] = struct{}{}
		}
		c.ExposedPorts = ports
	}
	if len(s.Volumes) > 0 {
		vols := map[string]struct{}{}
		maps.Copy(vols, c.Volumes)
		for _, v := range s.Volumes {
			vols[v] = struct{}{}
		}
		c.Volumes = vols
	}
	labels := map[string]string{}
	maps.Copy(labels, c.Labels)
	maps.Copy(labels, s.Labels)
	c.Labels = labels
	// A base's health check or shell refers to a program this image may
	// not have; ONBUILD triggers are for Dockerfiles.
	c.Healthcheck, c.OnBuild, c.Shell = nil, nil, nil

	layers := map[v1.Hash]partial.CompressedLayer{}
	var descs []v1.Descriptor
	cfg.RootFS = v1.RootFS{Type: "layers"}
	// The base's history stays: tools pair its non-empty entries with the
	// base's layers.
	history := append([]v1.History(nil), cfg.History...)
	for _, l := range baseLayers {
		d, err := layerDescriptor(l, "")
		if err != nil {
			return nil, err
		}
		descs = append(descs, d)
		layers[d.Digest] = l
		diffID, err := l.DiffID()
		if err != nil {
			return nil, err
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
	}
	for _, l := range s.Layers {
		mt := l.mediaType
		if manifestType == types.DockerManifestSchema2 && mt == types.OCILayer {
			mt = types.DockerLayer
		}
		fl := *l
		fl.mediaType = mt
		d, err := layerDescriptor(&fl, mt)
		if err != nil {
			return nil, err
		}
		descs = append(descs, d)
		layers[d.Digest] = &fl
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, fl.diffID)
		history = append(history, v1.History{Created: created, CreatedBy: l.createdBy, Comment: "redline build"})
	}
	cfg.History = history
	rawConfig, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgHash, cfgSize, err := v1.SHA256(strings.NewReader(string(rawConfig)))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     manifestType,
		Config:        v1.Descriptor{MediaType: configType, Size: cfgSize, Digest: cfgHash},
		Layers:        descs,
	}
	if manifestType == types.OCIManifestSchema1 && len(s.Annotations) > 0 {
		m.Annotations = s.Annotations
	}
	rawManifest, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&builtImage{rawConfig: rawConfig, rawManifest: rawManifest, mediaType: manifestType, layers: layers})
}

func layerDescriptor(l v1.Layer, mt types.MediaType) (v1.Descriptor, error) {
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if mt == "" {
		if mt, err = l.MediaType(); err != nil {
			return v1.Descriptor{}, err
		}
	}
	return v1.Descriptor{MediaType: mt, Size: size, Digest: d}, nil
}

// mergeEnv sets each KEY=VALUE of add in env, replacing an existing KEY.
func mergeEnv(env, add []string) []string {
	out := append([]string(nil), env...)
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, e := range out {
			if ek, _, _ := strings.Cut(e, "="); ek == k {
				out[i] = kv
				replaced = true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}
