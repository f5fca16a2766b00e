package main

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
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
	file           string // blob on disk
	digest, diffID string // sha256:... of the gzip blob and of the tar
	size, tarSize  int64
	entries        int
}

// builtImage is a docker-archive on disk.
type builtImage struct {
	name, archive string
	layers        []layerBlob
	binaries      []string // image paths of the Go binaries it holds
}

func (b *builtImage) tarBytes() (n int64) {
	for _, l := range b.layers {
		n += l.tarSize
	}
	return n
}

func (b *builtImage) blobBytes() (n int64) {
	for _, l := range b.layers {
		n += l.size
	}
	return n
}

// hashWriter counts and hashes what goes through it.
type hashWriter struct {
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	w.n += int64(len(p))
	return len(p), nil
}

func (w *hashWriter) sum() string { return "sha256:" + hex.EncodeToString(w.h.Sum(nil)) }

// writeLayer streams one layer to dir/tmp as tar → gzip → file, hashing
// the tar (diff ID) and the gzip stream (digest) on the way, then renames
// the blob to its digest.
func writeLayer(dir string, src layerSrc) (layerBlob, error) {
	tmp, err := os.CreateTemp(dir, "layer-*.tmp")
	if err != nil {
		return layerBlob{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	blobHash := &hashWriter{h: sha256.New()}
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, blobHash), 1<<20)
	zw, err := kgzip.NewWriterLevel(bw, kgzip.DefaultCompression)
	if err != nil {
		return layerBlob{}, err
	}
	tarHash := &hashWriter{h: sha256.New()}
	tw := tar.NewWriter(io.MultiWriter(zw, tarHash))
	n := 0
	switch {
	case src.rootDir != "":
		n, err = tarRoot(tw, src.rootDir)
	default:
		n, err = tarFiles(tw, src.files)
	}
	if err != nil {
		return layerBlob{}, err
	}
	if err := tw.Close(); err != nil {
		return layerBlob{}, err
	}
	if err := zw.Close(); err != nil {
		return layerBlob{}, err
	}
	if err := bw.Flush(); err != nil {
		return layerBlob{}, err
	}
	if err := tmp.Close(); err != nil {
		return layerBlob{}, err
	}
	l := layerBlob{digest: blobHash.sum(), diffID: tarHash.sum(), size: blobHash.n, tarSize: tarHash.n, entries: n}
	l.file = filepath.Join(dir, strings.TrimPrefix(l.digest, "sha256:"))
	return l, os.Rename(tmp.Name(), l.file)
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
		diffIDs = append(diffIDs, l.diffID)
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
	sum := sha256.Sum256(cfg)
	cfgName := "blobs/sha256/" + hex.EncodeToString(sum[:])

	f, err := os.Create(archive + ".tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(archive + ".tmp")
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: created, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, ModTime: created, Typeflag: tar.TypeDir}); err != nil {
			return nil, err
		}
	}
	if err := add(cfgName, int64(len(cfg)), strings.NewReader(string(cfg))); err != nil {
		return nil, err
	}
	var layerNames []string
	for _, l := range b.layers {
		ln := "blobs/sha256/" + strings.TrimPrefix(l.digest, "sha256:")
		layerNames = append(layerNames, ln)
		lf, err := os.Open(l.file)
		if err != nil {
			return nil, err
		}
		err = add(ln, l.size, lf)
		lf.Close()
		if err != nil {
			return nil, err
		}
	}
	m, err := json.Marshal([]any{map[string]any{"Config": cfgName, "RepoTags": []string{"redline-bench/" + name + ":latest"}, "Layers": layerNames}})
	if err != nil {
		return nil, err
	}
	if err := add("manifest.json", int64(len(m)), strings.NewReader(string(m))); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
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
		}{l.file, l.digest, l.diffID, l.size, l.tarSize, l.entries})
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
		b.layers = append(b.layers, layerBlob{file: l.File, digest: l.Digest, diffID: l.DiffID, size: l.Size, tarSize: l.TarSize, entries: l.Entries})
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
		if err := runLog("", nil, "apt-get", "update"); err != nil {
			return "", err
		}
		if err := runLog("", nil, "apt-get", "install", "-y", "debootstrap"); err != nil {
			return "", err
		}
	}
	os.RemoveAll(root)
	logf("debootstrap --variant=minbase bookworm %s (a few minutes)", root)
	if err := runLog("", nil, "debootstrap", "--variant=minbase", "bookworm", root, "http://deb.debian.org/debian"); err != nil {
		os.RemoveAll(root)
		return "", errors.Join(errors.New("debootstrap failed"), err)
	}
	return root, nil
}
