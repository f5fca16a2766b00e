// Package imagetest builds container images for tests: crafted tar layers
// (overwritten files, whiteouts, opaque directories, links, hostile names)
// written as docker archives, OCI archives and OCI layout directories.
// Output is deterministic, so golden files can hold digests.
package imagetest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Epoch is the fixed time stamped on every entry and config.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Entry is one tar entry.
type Entry struct {
	// Name is written as is: "etc/passwd", "etc/.wh.old", "var/.wh..wh..opq",
	// or hostile ones like "../x" or "/abs".
	Name string
	// Type is the tar typeflag. Default: TypeReg, or TypeDir when Name ends
	// in "/".
	Type byte
	// Body is the content. When nil, Size bytes of a fixed pattern are used.
	Body []byte
	Size int64
	// Mode defaults to 0644 for files, 0755 for directories.
	Mode int64
	// Link is the target of a symlink or hard link.
	Link string
	// UID and GID of the entry.
	UID, GID int
	// PAX records, e.g. SCHILY.xattr.security.capability.
	PAX map[string]string
}

// Compression of a layer blob.
type Compression int

// Layer compressions.
const (
	Gzip Compression = iota
	Zstd
	None
)

// Layer is one layer of a spec.
type Layer struct {
	Entries   []Entry
	CreatedBy string
	Comp      Compression
	// Raw, when set, is used as the uncompressed tar stream instead of
	// Entries (for corrupt or truncated tars).
	Raw []byte
}

// Spec describes an image.
type Spec struct {
	Layers []Layer
	// User, Entrypoint, Cmd, WorkingDir, Env, ExposedPorts and Labels go to
	// the config.
	User         string
	Entrypoint   []string
	Cmd          []string
	WorkingDir   string
	Env          []string
	ExposedPorts []string
	Labels       map[string]string
	// EmptySteps are history entries without a layer, placed after the
	// layer with the given index (-1: before the first).
	EmptySteps map[int][]string
	OS, Arch   string
}

// Built is a spec turned into blobs.
type Built struct {
	Config     []byte
	ConfigDig  string // sha256:...
	Manifest   []byte
	ManifestD  string
	Layers     []BuiltLayer
	ConfigJSON map[string]any
}

// BuiltLayer is one layer blob with its digests.
type BuiltLayer struct {
	Blob      []byte // as stored (compressed or not)
	Tar       []byte // uncompressed
	Digest    string // sha256:... of Blob
	DiffID    string // sha256:... of Tar
	MediaType string
}

// Tar returns the tar stream of entries.
func Tar(entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.Name, Typeflag: e.Type, Linkname: e.Link, Mode: e.Mode,
			Uid: e.UID, Gid: e.GID, ModTime: Epoch, PAXRecords: e.PAX,
			Format: tar.FormatPAX,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			if len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' {
				h.Typeflag = tar.TypeDir
			}
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		body := e.Body
		if h.Typeflag == tar.TypeReg && body == nil && e.Size > 0 {
			body = Pattern(e.Size)
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if len(e.PAX) == 0 {
			h.Format = tar.FormatUnknown
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(fmt.Sprintf("imagetest: header %q: %v", e.Name, err))
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(body); err != nil {
				panic(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Pattern returns n bytes that compress a little but not to nothing.
func Pattern(n int64) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x % 16)
	}
	return b
}

// Compress returns the blob of a tar stream.
func Compress(tarBytes []byte, c Compression) []byte {
	var buf bytes.Buffer
	switch c {
	case Gzip:
		zw, _ := kgzip.NewWriterLevel(&buf, kgzip.DefaultCompression)
		zw.Write(tarBytes)
		zw.Close()
	case Zstd:
		zw, _ := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
		zw.Write(tarBytes)
		zw.Close()
	default:
		buf.Write(tarBytes)
	}
	return buf.Bytes()
}

// Digest returns "sha256:HEX" of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// Build turns a spec into blobs.
func Build(s Spec) *Built {
	b := &Built{}
	var diffIDs []string
	var history []map[string]any
	addEmpty := func(after int) {
		for _, c := range s.EmptySteps[after] {
			history = append(history, map[string]any{"created": Epoch, "created_by": c, "empty_layer": true})
		}
	}
	addEmpty(-1)
	for i, l := range s.Layers {
		t := l.Raw
		if t == nil {
			t = Tar(l.Entries...)
		}
		blob := Compress(t, l.Comp)
		mt := map[Compression]string{
			Gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
			Zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
			None: "application/vnd.oci.image.layer.v1.tar",
		}[l.Comp]
		bl := BuiltLayer{Blob: blob, Tar: t, Digest: Digest(blob), DiffID: Digest(t), MediaType: mt}
		b.Layers = append(b.Layers, bl)
		diffIDs = append(diffIDs, bl.DiffID)
		cb := l.CreatedBy
		if cb == "" {
			cb = fmt.Sprintf("layer %d", i)
		}
		history = append(history, map[string]any{"created": Epoch, "created_by": cb})
		addEmpty(i)
	}
	osName, arch := s.OS, s.Arch
	if osName == "" {
		osName = "linux"
	}
	if arch == "" {
		arch = "amd64"
	}
	cfg := map[string]any{}
	if s.User != "" {
		cfg["User"] = s.User
	}
	if s.Entrypoint != nil {
		cfg["Entrypoint"] = s.Entrypoint
	}
	if s.Cmd != nil {
		cfg["Cmd"] = s.Cmd
	}
	if s.WorkingDir != "" {
		cfg["WorkingDir"] = s.WorkingDir
	}
	if s.Env != nil {
		cfg["Env"] = s.Env
	}
	if s.Labels != nil {
		cfg["Labels"] = s.Labels
	}
	if len(s.ExposedPorts) > 0 {
		ports := map[string]any{}
		for _, p := range s.ExposedPorts {
			ports[p] = map[string]any{}
		}
		cfg["ExposedPorts"] = ports
	}
	if diffIDs == nil {
		diffIDs = []string{}
	}
	b.ConfigJSON = map[string]any{
		"architecture": arch, "os": osName, "created": Epoch, "config": cfg,
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": history,
	}
	b.Config = mustJSON(b.ConfigJSON)
	b.ConfigDig = Digest(b.Config)
	var layers []map[string]any
	for _, l := range b.Layers {
		layers = append(layers, map[string]any{"mediaType": l.MediaType, "digest": l.Digest, "size": len(l.Blob)})
	}
	if layers == nil {
		layers = []map[string]any{}
	}
	b.Manifest = mustJSON(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": b.ConfigDig, "size": len(b.Config)},
		"layers":        layers,
	})
	b.ManifestD = Digest(b.Manifest)
	return b
}

// WithConfig returns a copy of b whose config edit has changed (a history
// longer than the layers, a lying field), with the config digest and the
// manifest made to match: a well-formed image carrying odd metadata.
func (b *Built) WithConfig(edit func(cfg map[string]any)) *Built {
	c := *b
	var cfg map[string]any
	if err := json.Unmarshal(b.Config, &cfg); err != nil {
		panic(err)
	}
	edit(cfg)
	c.ConfigJSON = cfg
	c.Config = mustJSON(cfg)
	c.ConfigDig = Digest(c.Config)
	var m map[string]any
	if err := json.Unmarshal(b.Manifest, &m); err != nil {
		panic(err)
	}
	m["config"] = map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c.ConfigDig, "size": len(c.Config)}
	c.Manifest = mustJSON(m)
	c.ManifestD = Digest(c.Manifest)
	return &c
}

func mustJSON(v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return out
}

func hexOf(d string) string { return d[len("sha256:"):] }

// File is a file to put in an archive.
type File struct {
	Name string
	Body []byte
	Type byte
	Link string
}

// ArchiveFiles returns the files of a docker-archive (the `docker save`
// layout before docker 25: HEX.json config, HEX/layer.tar layers).
func (b *Built) ArchiveFiles(tag string) []File {
	var files []File
	var layerPaths []string
	for _, l := range b.Layers {
		p := hexOf(l.DiffID) + "/layer.tar"
		if l.MediaType != "application/vnd.oci.image.layer.v1.tar" {
			p = hexOf(l.Digest) + ".tar.gz"
		}
		layerPaths = append(layerPaths, p)
		files = append(files, File{Name: p, Body: l.Blob})
	}
	cfgName := hexOf(b.ConfigDig) + ".json"
	files = append(files, File{Name: cfgName, Body: b.Config})
	m := map[string]any{"Config": cfgName, "Layers": layerPaths}
	if tag != "" {
		m["RepoTags"] = []string{tag}
	} else {
		m["RepoTags"] = nil
	}
	files = append(files, File{Name: "manifest.json", Body: mustJSON([]any{m})})
	return files
}

// LayoutFiles returns the files of an OCI image layout holding the image,
// named ref (the org.opencontainers.image.ref.name annotation) when set.
func (b *Built) LayoutFiles(ref string) []File {
	files := []File{{Name: "oci-layout", Body: []byte(`{"imageLayoutVersion":"1.0.0"}`)}}
	desc := map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": b.ManifestD, "size": len(b.Manifest)}
	if ref != "" {
		desc["annotations"] = map[string]string{"org.opencontainers.image.ref.name": ref}
	}
	files = append(files, File{Name: "index.json", Body: mustJSON(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []any{desc}})})
	seen := map[string]bool{}
	add := func(d string, body []byte) {
		if !seen[d] {
			seen[d] = true
			files = append(files, File{Name: "blobs/sha256/" + hexOf(d), Body: body})
		}
	}
	add(b.ManifestD, b.Manifest)
	add(b.ConfigDig, b.Config)
	for _, l := range b.Layers {
		add(l.Digest, l.Blob)
	}
	return files
}

// WriteTar writes files as a tar archive at path.
func WriteTar(path string, files []File) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: f.Name, Typeflag: typ, Linkname: f.Link, Mode: 0o644, ModTime: Epoch}
		if typ == tar.TypeReg {
			h.Size = int64(len(f.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(f.Body); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// WriteDir writes files under dir.
func WriteDir(dir string, files []File) error {
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteDockerArchive writes the image as a docker archive.
func (b *Built) WriteDockerArchive(path, tag string) error {
	return WriteTar(path, b.ArchiveFiles(tag))
}

// WriteOCIArchive writes the image as an OCI archive (a tar of a layout).
func (b *Built) WriteOCIArchive(path, ref string) error {
	return WriteTar(path, b.LayoutFiles(ref))
}

// WriteOCIDir writes the image as an OCI layout directory.
func (b *Built) WriteOCIDir(dir, ref string) error {
	return WriteDir(dir, b.LayoutFiles(ref))
}
