package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/redline-go/redline/bench/internal/harness"
)

// created is the fixed creation time of the images and their entries'
// directories, so two runs write the same bytes for the same inputs.
var created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// layerSrc is one layer to write: a root directory (all of it but the
// contents of /dev, /proc and /sys, as in container base images) or a set
// of files placed at paths in the image.
type layerSrc struct {
	createdBy string
	rootDir   string            // a root filesystem, or ""
	files     map[string]string // image path -> host file
}

// layerBlob is a written gzip layer.
type layerBlob struct {
	harness.Layer
	file string // blob on disk
}

// builtImage is a docker-archive on disk.
type builtImage struct {
	name, archive string
	layers        []layerBlob
	binaries      []string // image paths of the Go binaries it holds
}

func (b *builtImage) tarBytes() int64  { return harness.Total(b.layers).TarBytes }
func (b *builtImage) blobBytes() int64 { return harness.Total(b.layers).Size }

// writeLayer streams one layer into dir (harness.WriteLayer: tar → gzip →
// file, hashing the tar (diff ID) and the gzip stream (digest) on the way,
// the blob named by its digest).
func writeLayer(dir string, src layerSrc) (layerBlob, error) {
	l, err := harness.WriteLayer(dir, func(tw *tar.Writer) (int, error) {
		if src.rootDir != "" {
			return tarRoot(tw, src.rootDir)
		}
		return tarFiles(tw, src.files)
	})
	if err != nil {
		return layerBlob{}, err
	}
	return layerBlob{Layer: l, file: harness.BlobPath(dir, l.Digest)}, nil
}

// tarRoot writes a root filesystem in lexical order, keeping owners,
// modes, symlinks, hard links and times. The contents of /dev, /proc and
// /sys are left out (container images carry the empty directories).
func tarRoot(tw *tar.Writer, root string) (int, error) {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch top, _, _ := strings.Cut(rel, "/"); {
		case (top == "dev" || top == "proc" || top == "sys") && rel != top:
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode()&(fs.ModeSocket|fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice) != 0 {
			return nil // none outside /dev in a minbase root
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = rel
		if fi.IsDir() {
			h.Name += "/"
		}
		h.Uname, h.Gname = "", ""
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		st, _ := fi.Sys().(*syscall.Stat_t)
		if st != nil {
			h.Uid, h.Gid = int(st.Uid), int(st.Gid)
			if fi.Mode().IsRegular() && st.Nlink > 1 {
				key := inode{uint64(st.Dev), st.Ino}
				if first, ok := seen[key]; ok {
					h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
				} else {
					seen[key] = rel
				}
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		n++
		if h.Typeflag != tar.TypeReg {
			return nil
		}
		return copyFile(tw, p)
	})
	return n, err
}

// tarFiles writes files at image paths, with their parent directories.
func tarFiles(tw *tar.Writer, files map[string]string) (int, error) {
	var paths []string
	dirs := map[string]bool{}
	for p := range files {
		paths = append(paths, p)
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		paths = append(paths, d+"/")
	}
	sortStrings(paths)
	n := 0
	for _, p := range paths {
		name := strings.TrimPrefix(p, "/")
		if strings.HasSuffix(p, "/") {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: created, Format: tar.FormatPAX}); err != nil {
				return n, err
			}
			n++
			continue
		}
		st, err := os.Stat(files[p])
		if err != nil {
			return n, err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: st.Size(), ModTime: created, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return n, err
		}
		if err := copyFile(tw, files[p]); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func copyFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// writeImage writes the layers to OUT/blobs and a docker-archive (the
// layout of `docker save` since Docker 25: manifest.json naming a config
// and gzip layer blobs under blobs/sha256/) to archive.
func writeImage(blobs, name, archive string, srcs []layerSrc, binaries []string) (*builtImage, error) {
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, err
	}
	b := &builtImage{name: name, archive: archive, binaries: binaries}
	var history []map[string]any
	var diffIDs []string
	for _, s := range srcs {
		logf("%s: writing layer %q", name, s.createdBy)
		l, err := writeLayer(blobs, s)
		if err != nil {
			return nil, fmt.Errorf("%s: layer %q: %w", name, s.createdBy, err)
		}
		b.layers = append(b.layers, l)
		diffIDs = append(diffIDs, l.DiffID)
		history = append(history, map[string]any{"created": created, "created_by": s.createdBy})
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      created,
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history":      history,
	})
	if err != nil {
		return nil, err
	}
	cfgName := "blobs/sha256/" + strings.TrimPrefix(harness.Digest(cfg), "sha256:")

	a, err := harness.CreateTar(archive+".tmp", created)
	if err != nil {
		return nil, err
	}
	defer os.Remove(archive + ".tmp")
	defer a.Abort()
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := a.Dir(d); err != nil {
			return nil, err
		}
	}
	if err := a.AddBytes(cfgName, cfg); err != nil {
		return nil, err
	}
	var layerNames []string
	for _, l := range b.layers {
		ln := "blobs/sha256/" + strings.TrimPrefix(l.Digest, "sha256:")
		layerNames = append(layerNames, ln)
		if err := a.AddFile(ln, l.file); err != nil {
			return nil, err
		}
	}
	m, err := json.Marshal([]any{map[string]any{"Config": cfgName, "RepoTags": []string{"redline-bench/" + name + ":latest"}, "Layers": layerNames}})
	if err != nil {
		return nil, err
	}
	if err := a.AddBytes("manifest.json", m); err != nil {
		return nil, err
	}
	if err := a.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(archive+".tmp", archive); err != nil {
		return nil, err
	}
	// The blobs stay in OUT/blobs for the gzip -dc floor; the metadata
	// lets -reuse find them.
	return b, saveMeta(b)
}

// imageMeta is what -reuse needs of a built image, in ARCHIVE.meta.json.
type imageMeta struct {
	Binaries []string
	Layers   []struct {
		File, Digest, DiffID string
		Size, TarSize        int64
		Entries              int
	}
}

func saveMeta(b *builtImage) error {
	m := imageMeta{Binaries: b.binaries}
	for _, l := range b.layers {
		m.Layers = append(m.Layers, struct {
			File, Digest, DiffID string
			Size, TarSize        int64
			Entries              int
		}{l.file, l.Digest, l.DiffID, l.Size, l.TarBytes, l.Entries})
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(b.archive+".meta.json", raw, 0o644)
}

// loadImage returns an image written by an earlier run, or nil.
func loadImage(name, archive string) *builtImage {
	raw, err := os.ReadFile(archive + ".meta.json")
	if err != nil {
		return nil
	}
	if _, err := os.Stat(archive); err != nil {
		return nil
	}
	var m imageMeta
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	b := &builtImage{name: name, archive: archive, binaries: m.Binaries}
	for _, l := range m.Layers {
		b.layers = append(b.layers, layerBlob{file: l.File, Layer: harness.Layer{Digest: l.Digest, DiffID: l.DiffID, Size: l.Size, TarBytes: l.TarSize, Entries: l.Entries}})
	}
	return b
}

// debianRoot returns a `debootstrap --variant=minbase bookworm` root: the
// one .ci/run caches, or one made under out (installing debootstrap with
// apt-get when it is missing).
func debianRoot(out string) (string, error) {
	for _, r := range []string{*rootFlag, "/var/cache/redline-e2e/debian-minbase", filepath.Join(out, "debian-minbase")} {
		if r == "" || *rootFlag == "debootstrap" {
			continue
		}
		if _, err := os.Stat(filepath.Join(r, "var/lib/dpkg/status")); err == nil {
			return r, nil
		}
	}
	if *rootFlag != "" && *rootFlag != "debootstrap" {
		return "", fmt.Errorf("-root %s: no var/lib/dpkg/status", *rootFlag)
	}
	root := filepath.Join(out, "debian-minbase")
	if _, err := lookPath("debootstrap"); err != nil {
		logf("debootstrap missing: apt-get install -y debootstrap")
		if err := harness.RunLog("", nil, "apt-get", "update"); err != nil {
			return "", err
		}
		if err := harness.RunLog("", nil, "apt-get", "install", "-y", "debootstrap"); err != nil {
			return "", err
		}
	}
	os.RemoveAll(root)
	logf("debootstrap --variant=minbase bookworm %s (a few minutes)", root)
	if err := harness.RunLog("", nil, "debootstrap", "--variant=minbase", "bookworm", root, "http://deb.debian.org/debian"); err != nil {
		os.RemoveAll(root)
		return "", errors.Join(errors.New("debootstrap failed"), err)
	}
	return root, nil
}
